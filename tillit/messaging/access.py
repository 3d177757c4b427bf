"""Who may write to the people of a list: member service from the staff people list, a rep from the reps'
list of their own nodes once the confidentiality declaration is signed."""

from django.utils.translation import gettext_lazy

from tillit.core.policy import declare
from tillit.core.scopes import CORRECT, EDIT, scope_for

PEOPLE = declare("messaging.people", gettext_lazy("Write to the people of a list (email or SMS)"), EDIT,
                 tree="org/employer")
REPS = declare("messaging.reps", gettext_lazy("Write to the members of the reps' list"), CORRECT, tree="employer",
               only_reps=True, note=gettext_lazy("of the rep's own nodes, once the declaration is signed"))


def may_message_people(user) -> bool:
    """Member service messages from the people list."""
    return not scope_for(user, EDIT).empty


def may_write_to(user, person_ids, source: str) -> bool:
    """Whether `user` may write to every one of these people: from the reps' list, people the rep may correct
    (their nodes, once signed); from the people list, people the user may change."""
    from tillit.registry.models import Person

    ids = set(person_ids)
    if source == "reps":
        from tillit.reps.access import is_rep

        if not is_rep(user):
            return False
    perm = CORRECT if source == "reps" else EDIT
    return Person.objects.visible_to(user, perm).filter(pk__in=ids).count() == len(ids)
