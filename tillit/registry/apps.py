from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tillit.registry"
    label = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from tillit.registry.models import OrgUnit, forget_unit_scopes

        # Remembered scopes and unit lists are read again after any change of a unit, whoever makes it.
        post_save.connect(forget_unit_scopes, sender=OrgUnit, dispatch_uid="tillit.unit_saved")
        post_delete.connect(forget_unit_scopes, sender=OrgUnit, dispatch_uid="tillit.unit_deleted")
