from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuesConfig(AppConfig):
    name = "tillit.dues"
    label = "dues"
    verbose_name = _("Dues")

    def ready(self):
        from tillit.dues.panels import person_dues
        from tillit.registry.panels import register_person_panel

        register_person_panel(person_dues)

        from tillit.dues.demo import load_dues_demo
        from tillit.registry.demo import DEMO_EXTENSIONS

        if load_dues_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_dues_demo)
