from django.urls import path

from tillit.messaging import views

urlpatterns = [
    path("messages/compose/", views.compose, name="compose_mailing"),
    path("messages/sent/", views.mailing_list, name="mailings"),
    path("messages/sent/<int:pk>/", views.mailing_page, name="mailing"),
    path("messages/templates/", views.template_list, name="selection_templates"),
    path("messages/templates/new/", views.template_edit, name="selection_template_new"),
    path("messages/templates/<int:pk>/", views.template_edit, name="selection_template"),
    path("unsubscribe/<str:token>/", views.opt_out, name="opt_out"),
]
