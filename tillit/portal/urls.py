from django.urls import path

from tillit.portal import views

urlpatterns = [
    path("portal/", views.home, name="portal_home"),
    path("portal/me/", views.me, name="portal_me"),
    path("portal/me/my-data.json", views.export, name="portal_export"),
    path("portal/cases/<int:pk>/", views.case_page, name="portal_case"),
    path("portal/cases/<int:pk>/files/<int:document>/", views.case_file, name="portal_file"),
    path("cases/<int:pk>/show-to-the-person/", views.share_document, name="portal_share_document"),
    path("services/", views.catalogue, name="portal_services"),
    path("services/<int:pk>/", views.service_page, name="portal_service"),
    path("services/<int:pk>/suggest/", views.suggest, name="portal_suggest"),
    path("services/confirm/<str:token>/", views.confirm, name="portal_confirm"),
    path("login/link/", views.login_link, name="portal_login_link"),
    path("login/link/<str:token>/", views.use_link, name="portal_link"),
    path("help/", views.help_page, name="portal_help"),
    path("help/<int:pk>/", views.article_page, name="portal_article"),
    path("portal/manage/services/", views.manage_services, name="portal_manage_services"),
    path("portal/manage/services/<int:pk>/", views.manage_service, name="portal_manage_service"),
    path("portal/manage/articles/", views.manage_articles, name="portal_manage_articles"),
    path("portal/manage/articles/new/", views.manage_article, name="portal_manage_article_new"),
    path("portal/manage/articles/<int:pk>/", views.manage_article, name="portal_manage_article"),
]
