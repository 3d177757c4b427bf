from django.urls import path

from tillit.documents import views

urlpatterns = [
    path("documents/", views.document_list, name="documents"),
    path("documents/new/", views.document_new, name="document_new"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("documents/<int:pk>/versions/<int:number>/download/", views.document_download,
         name="document_version_download"),
    path("documents/<int:pk>/upload/", views.document_upload, name="document_upload"),
    path("documents/<int:pk>/checkout/", views.document_checkout, name="document_checkout"),
    path("documents/<int:pk>/checkin/", views.document_checkin, name="document_checkin"),
    path("documents/<int:pk>/release/", views.document_release, name="document_release"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:pk>/share/", views.document_share, name="document_share"),
    path("documents/<int:pk>/share/<int:link_pk>/revoke/", views.document_share_revoke, name="document_share_revoke"),
    path("documents/<int:pk>/link/", views.document_link, name="document_link"),
    path("documents/<int:pk>/unlink/", views.document_unlink, name="document_unlink"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path("shared/<str:token>", views.shared, name="shared"),
]
