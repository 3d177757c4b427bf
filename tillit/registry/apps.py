from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tillit.registry"
    label = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from tillit.core.kept import forget_on_change
        from tillit.registry.models import OrgUnit, SavedView

        # Remembered scopes, unit lists and saved views are read again after any change, whoever makes it.
        forget_on_change("units", OrgUnit)
        forget_on_change("saved-views", SavedView)
