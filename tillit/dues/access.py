"""Who may do the dues work that concerns the whole organisation, and which lines of a payroll office's notice a
reader may see."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tillit.core.audit import log_access_many
from tillit.core.policy import declare, require
from tillit.core.scopes import CONFIGURE, DUES, SEND_RETURNS, VIEW_NOTICES, organisation_wide, scope_for
from tillit.registry.models import Membership, Person

WHOLE = gettext_lazy("a grant over the whole organisation")
RUN = declare("dues.run", gettext_lazy("Run the month's dues, make notices and bank files, read bank files"), DUES,
              note=WHOLE)
SETTINGS = declare("dues.settings", gettext_lazy("Set fee schedules and the dues policy"), CONFIGURE, note=WHOLE)
ACCOUNTS = declare("dues.accounts", gettext_lazy("Correct a member's account, resolve deviations of returns"),
                   DUES, tree="org/employer")
RETURNS = declare("dues.returns", gettext_lazy("Send what an employer deducted (a return)"), SEND_RETURNS,
                  tree="org/employer", note=gettext_lazy("for payroll offices the actor reaches"))


def visible_member_numbers(user, numbers) -> set[str]:
    """Which of these member numbers belong to people `user` may see (one query)."""
    return set(Membership.objects.filter(member_number__in=set(numbers), person__in=Person.objects.visible_to(
        user).values("pk")).values_list("member_number", flat=True))


def lines_for(user, unit, lines: list[dict]) -> list[dict]:
    """The lines of a notice or deduction list of the payroll office `unit` that `user` may see: all of them for a
    grant over the office itself or above it (the office, its group, the system owner); for those who reach it
    otherwise (a case handler through a region holding one of its workplaces, a rep), the lines about people
    they may see. A line never shows a national id of someone outside the reader's scope."""
    scope = scope_for(user, VIEW_NOTICES)
    if scope.everything or scope.covers_node("employer", unit.path):
        return lines
    visible = visible_member_numbers(user, [line["member_number"] for line in lines])
    return [line for line in lines if line["member_number"] in visible]


def log_lines_shown(user, action: str, lines: list[dict], *, channel: str, detail: dict) -> None:
    """Every person on the lines shown is in the access log (one statement)."""
    people = Membership.objects.filter(member_number__in={line["member_number"] for line in lines}).values_list(
        "person_id", flat=True)
    log_access_many(user, action, list(people), channel=channel, detail=detail)


def may_run(user) -> bool:
    return organisation_wide(user, DUES)


def may_set(user) -> bool:
    return organisation_wide(user, CONFIGURE)


def may_keep_account(user, person) -> bool:
    from tillit.registry.models import may

    return may(user, DUES, person)


def may_resolve(user, deviation) -> bool:
    from tillit.dues.deviations import visible_deviations

    return visible_deviations(user).filter(pk=deviation.pk).exists()


def may_send_return(user, unit) -> bool:
    from tillit.dues.notices import payroll_units_for

    return payroll_units_for(user, SEND_RETURNS).filter(pk=unit.pk).exists()


def check(actor, allowed) -> None:
    """Refuse a person (not the system) unless `allowed()`."""
    if getattr(actor, "pk", None):
        require(allowed(), _("This dues work is not yours to do."))
