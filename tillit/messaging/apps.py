from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "tillit.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from tillit.messaging.panels import person_mailings
        from tillit.registry.panels import register_person_panel

        register_person_panel(person_mailings)

        from tillit.messaging import mailings  # noqa: F401 - its receiver of the outbox's `settled`
        from tillit.messaging.services import erase_person
        from tillit.registry.erasure import ERASERS

        ERASERS.append(erase_person)
