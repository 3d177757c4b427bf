from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),  # answers only with TILLIT_ADMIN_SITE=1 (tillit.core.admin_site)
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tillit.core.urls")),
    path("", include("tillit.workspace.urls")),
    path("", include("tillit.registry.urls")),
    path("", include("tillit.cases.urls")),
    path("", include("tillit.documents.urls")),
    path("", include("tillit.dues.urls")),
    path("", include("tillit.reps.urls")),
    path("", include("tillit.messaging.urls")),
    path("", include("tillit.portal.urls")),
    path("api/v1/", include("tillit.api.urls")),
]

