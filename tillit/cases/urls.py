from django.urls import path

from tillit.cases import views

urlpatterns = [
    path("cases/", views.queue, name="cases"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/measure/", views.measure_page, name="case_measure"),
    path("cases/bulk/", views.bulk_action, name="case_bulk"),
    path("cases/types/", views.case_types, name="case_types"),
    path("cases/types/new/", views.case_type_new, name="case_type_new"),
    path("cases/types/<int:pk>/", views.case_type_detail, name="case_type"),
    path("cases/types/<int:pk>/process/", views.case_type_process, name="case_type_process"),
    path("cases/types/<int:pk>/texts/", views.case_type_texts, name="case_type_texts"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/subjects/", views.case_subjects, name="case_subjects"),
    path("cases/<int:pk>/case-type/", views.case_reclassify, name="case_reclassify"),
    path("cases/<int:pk>/note/", views.case_note, name="case_note"),
    path("cases/<int:pk>/transfer/", views.case_transfer, name="case_transfer"),
    path("cases/<int:pk>/message/", views.case_message, name="case_message"),
    path("cases/<int:pk>/tags/", views.case_tags, name="case_tags"),
    path("cases/<int:pk>/link/", views.case_link, name="case_link"),
]
