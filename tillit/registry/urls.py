from django.urls import path

from tillit.registry import access_views, views

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/export.<str:fmt>", views.people_export, name="people_export"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/history/", views.person_history, name="person_history"),
    path("people/<int:pk>/merge/", views.person_merge, name="person_merge"),
    path("people/reviews/", views.duplicate_reviews, name="duplicate_reviews"),
    path("people/reviews/<int:pk>/dismiss/", views.duplicate_review_dismiss, name="duplicate_review_dismiss"),
    path("people/<int:pk>/memberships/new/", views.membership_new, name="membership_new"),
    path("people/<int:pk>/memberships/<int:membership_pk>/status/", views.membership_status,
         name="membership_status"),
    path("people/<int:pk>/employments/new/", views.employment_new, name="employment_new"),
    path("people/<int:pk>/roles/new/", views.role_new, name="role_new"),
    path("org-units/", views.org_units, name="org_units"),
    path("org-units/<int:pk>/", views.org_units, name="org_unit"),
    path("employers/", views.employers, name="employers"),
    path("employers/<int:pk>/", views.employers, name="employer"),
    path("imports/", views.import_upload, name="import_upload"),
    path("config/types/", views.type_texts, name="type_texts"),
    path("imports/<int:pk>/rejected.csv", views.import_rejects, name="import_rejects"),
    path("access/", access_views.access_users, name="access_users"),
    path("access/rights/", access_views.rights, name="access_rights"),
    path("access/users/<int:pk>/", access_views.access_user, name="access_user"),
    path("access/users/<int:pk>/grant/", access_views.access_grant, name="access_grant"),
    path("access/users/<int:pk>/revoke/", access_views.access_revoke, name="access_revoke"),
    path("access/users/<int:pk>/unlock/", access_views.access_unlock, name="access_unlock"),
    path("access/users/<int:pk>/password/", access_views.access_password, name="access_password"),
]
