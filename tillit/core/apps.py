from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tillit.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from tillit.core import checks, lookups  # noqa: F401 - register the deployment checks, field__among
        from tillit.core.middleware import start_idle_clock

        user_logged_in.connect(start_idle_clock, dispatch_uid="tillit.idle_clock")
