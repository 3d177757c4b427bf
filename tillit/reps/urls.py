from django.urls import path

from tillit.reps import views

urlpatterns = [
    path("reps/", views.dashboard, name="reps_home"),
    path("reps/members/", views.member_list, name="reps_members"),
    path("reps/members/export.<str:fmt>", views.member_export, name="reps_members_export"),
    path("reps/members/saved/", views.save_filter, name="reps_save_filter"),
    path("reps/members/saved/<int:pk>/delete/", views.delete_filter, name="reps_delete_filter"),
    path("reps/members/<int:pk>/correct/", views.correct, name="reps_correct"),
    path("reps/corrections/", views.my_corrections, name="reps_corrections"),
    path("reps/coverage/<str:which>.<str:fmt>", views.coverage_export, name="reps_coverage_export"),
    path("reps/entitlement/", views.entitlement_edit, name="reps_entitlement"),
    path("corrections/", views.correction_queue, name="correction_queue"),
    path("reps/tree/", views.company_tree, name="reps_tree"),
    path("reps/reps/", views.other_reps, name="reps_reps"),
    path("reps/notices/", views.notices, name="reps_notices"),
    path("reps/coverage/", views.coverage, name="reps_coverage"),
    path("reps/declaration/", views.declaration_page, name="reps_declaration"),
    path("reps/declaration/edit/", views.declaration_edit, name="reps_declaration_edit"),
]
