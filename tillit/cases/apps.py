from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tillit.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from tillit.cases.models import CaseType, State
        from tillit.cases.panels import person_cases
        from tillit.cases.queues import forget_configured_names
        from tillit.registry.panels import register_person_panel

        for model in (CaseType, State):  # the queue's kept names of types and states
            post_save.connect(forget_configured_names, sender=model, dispatch_uid=f"tillit.names.{model.__name__}.s")
            post_delete.connect(forget_configured_names, sender=model, dispatch_uid=f"tillit.names.{model.__name__}.d")

        register_person_panel(person_cases)

        from tillit.cases.demo import load_case_demo
        from tillit.registry.demo import DEMO_EXTENSIONS

        if load_case_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_case_demo)
