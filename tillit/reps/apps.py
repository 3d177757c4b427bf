from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepsConfig(AppConfig):
    name = "tillit.reps"
    label = "reps"
    verbose_name = _("Representatives' portal")

    def ready(self):
        from tillit.registry.demo import DEMO_EXTENSIONS
        from tillit.reps.demo import load_reps_demo

        if load_reps_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_reps_demo)
