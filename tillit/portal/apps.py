from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tillit.portal"
    label = "portal"
    verbose_name = _("Self-service portal")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from tillit.cases.panels import CASE_PANELS, MEASURE_PANELS
        from tillit.core.kept import forget_on_change
        from tillit.portal import notify  # noqa: F401 - connects the signal
        from tillit.portal.models import Article
        from tillit.portal.views import case_for_the_person, measure_panel

        forget_on_change("articles", Article)  # the case page's kept titles of published articles
        MEASURE_PANELS.register(measure_panel)
        CASE_PANELS.register(case_for_the_person)

        from tillit.portal.services import erase_person
        from tillit.registry.erasure import ERASERS

        ERASERS.append(erase_person)
        user_logged_in.connect(remember_own_person, dispatch_uid="tillit.portal.own_person")
        from tillit.portal.demo import load_portal_demo
        from tillit.registry.demo import DEMO_EXTENSIONS

        if load_portal_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_portal_demo)


def remember_own_person(sender, request, user, **kwargs):
    """Whether the login has a person record of its own, kept in the session: the top bar offers "My page"
    without a query on every page."""
    from tillit.portal.access import own_person

    if request is not None and hasattr(request, "session"):
        person = own_person(user)
        request.session["tillit_person"] = person.pk if person else None
