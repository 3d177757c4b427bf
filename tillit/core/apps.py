from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default = True
    name = "tillit.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_delete, post_save

        from tillit.core import checks, lookups  # noqa: F401 - register the deployment checks, field__among
        from tillit.core.backends import forget_user
        from tillit.core.middleware import start_idle_clock
        from tillit.core.services import revoke_on_deactivation

        user_logged_in.connect(start_idle_clock, dispatch_uid="tillit.idle_clock")
        user = get_user_model()
        post_save.connect(forget_user, sender=user, dispatch_uid="tillit.user_saved")
        post_delete.connect(forget_user, sender=user, dispatch_uid="tillit.user_deleted")
        post_save.connect(revoke_on_deactivation, sender=user, dispatch_uid="tillit.user_deactivated")
        user_logged_out.connect(forget_user, dispatch_uid="tillit.user_logged_out")

        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("access")  # each app's access.py declares its actions in the rights table (policy)


class TillitAdminConfig(admin_apps.AdminConfig):
    """The Django admin with Tillit's site: off unless TILLIT_ADMIN_SITE=1, no login form of its own."""

    default = False  # named in INSTALLED_APPS; the module's default is CoreConfig
    default_site = "tillit.core.admin_site.TillitAdminSite"
