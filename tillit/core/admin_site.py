"""The Django admin for system owners: off unless TILLIT_ADMIN_SITE=1, and without a login form of its own (it
sends people to Tillit's login, with its second factor)."""

from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.http import Http404


class TillitAdminSite(admin.AdminSite):
    site_header = "Tillit"

    def has_permission(self, request):
        """Configuration is the system owner's; staff flags alone do not open the admin."""
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def gated(request, *args, **kwargs):
            if not settings.TILLIT_ADMIN_SITE:
                raise Http404
            return inner(request, *args, **kwargs)

        return update_wrapper(gated, inner)

    def login(self, request, extra_context=None):
        from django.contrib.auth.views import redirect_to_login

        if not settings.TILLIT_ADMIN_SITE or request.user.is_authenticated:  # logged in without the right: no door
            raise Http404
        return redirect_to_login(request.GET.get("next") or "/admin/")
