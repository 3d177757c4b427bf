from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tillit.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from tillit.cases.models import CaseType, State
        from tillit.cases.panels import person_cases
        from tillit.core.kept import forget_on_change
        from tillit.registry.panels import register_person_panel

        forget_on_change("case-config", CaseType, State)  # the queue's kept names of types and states

        register_person_panel(person_cases)

        from tillit.cases.services import erase_person
        from tillit.registry.erasure import ERASERS

        ERASERS.append(erase_person)

        from tillit.cases.demo import load_case_demo
        from tillit.registry.demo import DEMO_EXTENSIONS

        if load_case_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_case_demo)
