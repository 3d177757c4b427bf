from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "tillit.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from tillit.cases.panels import register_case_panel
        from tillit.documents.panels import case_documents, employer_documents, person_documents, unit_documents
        from tillit.registry.panels import NODE_PANELS, register_person_panel

        register_person_panel(person_documents)

        from tillit.documents.services import erase_person
        from tillit.registry.erasure import ERASERS

        ERASERS.append(erase_person)
        register_case_panel(case_documents)
        NODE_PANELS["employer"].register(employer_documents)
        NODE_PANELS["org"].register(unit_documents)

        from tillit.documents.demo import load_document_demo
        from tillit.registry.demo import DEMO_EXTENSIONS

        if load_document_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_document_demo)
