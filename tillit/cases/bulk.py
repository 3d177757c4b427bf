"""Actions on many cases at once, from the ticked rows of a queue: assign, transfer, tag, close with a reason.

Each case goes through the same service as on its own page, in its own transaction: each is audited and on its
timeline as if done one by one, a refusal (a rule, a case changed meanwhile) stops only that case, and the
refused ones are named with the reason. Cases the user may not change are refused as "not found" (the same
answer as for a case that does not exist), so nothing is learnt about cases out of sight.
"""

import dataclasses

from django.db import transaction
from django.utils.translation import gettext as _

from tillit.cases import services
from tillit.cases.models import Case, State
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.scopes import EDIT
from tillit.registry.models import OrgUnit

ACTIONS = ("assign_me", "unassign", "transfer", "tag", "close")
MAX_CASES = 500


@dataclasses.dataclass
class BulkResult:
    done: list[str] = dataclasses.field(default_factory=list)  # case numbers
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (case number or id, why)


def _closing_transition(case, user):
    for t in services.available_transitions(case, user):
        if t.to_state.category == State.Category.CLOSED:
            return t
    return None


def _check(action: str, data: dict):
    if action not in ACTIONS:
        raise InvalidInput(_("Unknown action."), field_errors={"action": [_("Choose an action.")]})
    if action == "transfer":
        if not OrgUnit.objects.filter(pk=data.get("unit") or 0).exists():
            raise InvalidInput(_("Choose the unit the cases move to."), field_errors={"unit": [
                _("This field is required.")]})
        if not str(data.get("reason") or "").strip():
            raise InvalidInput(_("Say why the cases move."), field_errors={"reason": [_("This field is required.")]})
    if action == "tag" and not [t for t in str(data.get("tags") or "").split(",") if t.strip()]:
        raise InvalidInput(_("Write the tags to add."), field_errors={"tags": [_("This field is required.")]})
    if action == "close" and not str(data.get("reason") or "").strip():
        raise InvalidInput(_("Say why the cases are closed."), field_errors={"reason": [
            _("This field is required.")]})


def apply(user, ids, action: str, data: dict) -> BulkResult:
    """Apply `action` to each of the cases `ids` the user may change; see the module's docstring."""
    _check(action, data)
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise InvalidInput(_("Tick the cases first."), field_errors={"case": [_("No case is ticked.")]})
    if len(wanted) > MAX_CASES:
        raise InvalidInput(_("At most %(n)d cases at once.") % {"n": MAX_CASES})
    result = BulkResult()
    found = {c.pk: c for c in Case.objects.visible_to(user, EDIT).filter(pk__in=wanted).select_related(
        "responsible_unit", "state", "case_type")}
    unit = OrgUnit.objects.filter(pk=data.get("unit") or 0).first()
    reason = str(data.get("reason") or "").strip()
    tags = [t.strip() for t in str(data.get("tags") or "").split(",") if t.strip()]
    for pk in wanted:
        case = found.get(pk)
        if case is None:
            result.refused.append((f"#{pk}", _("not found, or not yours to change")))
            continue
        try:
            with transaction.atomic():
                if action == "assign_me":
                    services.assign_case(case, user, actor=user)
                elif action == "unassign":
                    services.assign_case(case, None, actor=user)
                elif action == "transfer":
                    services.transfer_case(case, unit, reason=reason, actor=user)
                elif action == "tag":
                    services.update_case(case, {"tags": sorted(set(case.tags) | set(tags))}, actor=user)
                elif action == "close":
                    move = _closing_transition(case, user)
                    if move is None:
                        raise DomainError(_("it cannot be closed from “%(s)s”") % {"s": case.state.shown_name})
                    services.transition_case(case, move.code, note=reason, actor=user)
            result.done.append(case.number)
        except DomainError as exc:
            result.refused.append((case.number, exc.message))
    return result
