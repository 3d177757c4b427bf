from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepsConfig(AppConfig):
    name = "tillit.reps"
    label = "reps"
    verbose_name = _("Representatives' portal")

    def ready(self):
        from tillit.core.scopes import REP_ROLES, require_for_roles
        from tillit.registry.demo import DEMO_EXTENSIONS
        from tillit.reps.declaration import has_signed
        from tillit.reps.demo import load_reps_demo

        # A rep's grants open member data (lists, person pages, exports, the API, search) only once they have signed
        # the current confidentiality declaration.
        require_for_roles(REP_ROLES, has_signed)

        from tillit.registry.erasure import ERASERS
        from tillit.reps.corrections import erase_person

        ERASERS.append(erase_person)

        if load_reps_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(load_reps_demo)
