"""Changes to the dues settings and fee schedules: validated, audited."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import InvalidInput
from tillit.core.services import save_versioned
from tillit.core.text import as_id, as_version
from tillit.dues import access
from tillit.dues.ledger import parse_amount
from tillit.dues.models import DuesPolicy, FeeSchedule, forget_policy, policy
from tillit.registry.models import MembershipType


def _date(raw, field, errors, required=True):
    text = str(raw or "").strip()
    if not text:
        if required:
            errors.setdefault(field, []).append(_("Required: a date as YYYY-MM-DD."))
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        errors.setdefault(field, []).append(_("A date as YYYY-MM-DD."))
        return None


@transaction.atomic
def add_schedule(data, *, actor, channel: str = "ui") -> FeeSchedule:
    access.check(actor, lambda: access.may_set(actor))
    errors: dict[str, list[str]] = {}
    mtype = MembershipType.objects.filter(pk=as_id(data.get("membership_type"))).first()
    if mtype is None:
        errors["membership_type"] = [_("Choose a membership type.")]
    kind = data.get("kind", "")
    if kind not in FeeSchedule.Kind.values:
        errors["kind"] = [_("Choose fixed or percentage.")]
    valid_from = _date(data.get("valid_from"), "valid_from", errors)
    valid_to = _date(data.get("valid_to"), "valid_to", errors, required=False)
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = [_("Must not be before the start.")]
    values = {}
    for field in ("amount", "minimum", "maximum"):
        raw = data.get(field)
        if raw in (None, ""):
            values[field] = None
            continue
        values[field] = parse_amount(raw, field, errors)
        if values[field] is not None and values[field] < 0:
            errors.setdefault(field, []).append(_("Cannot be negative."))
    rate = None
    if kind == FeeSchedule.Kind.PERCENT:
        rate = parse_amount(data.get("rate"), "rate", errors)  # "1,5" → 150 (hundredths of a per cent)
        if rate is not None and not 0 < rate <= 10_000:
            errors.setdefault("rate", []).append(_("A percentage above 0 and at most 100."))
        if values["maximum"] is not None and values["minimum"] is not None and values["maximum"] < values["minimum"]:
            errors.setdefault("maximum", []).append(_("The ceiling must not be below the floor."))
    elif kind == FeeSchedule.Kind.FIXED and values["amount"] is None and "amount" not in errors:
        errors["amount"] = [_("Give the monthly amount.")]
    if errors:
        raise InvalidInput(_("The fee schedule was not saved."), field_errors=errors)
    schedule = FeeSchedule.objects.create(
        membership_type=mtype, kind=kind, valid_from=valid_from, valid_to=valid_to,
        amount=values["amount"] or 0, rate=rate or 0, minimum=values["minimum"] or 0, maximum=values["maximum"])
    audit.record("dues.fee_schedule.created", schedule, actor=actor, channel=channel,
                 changes=audit.snapshot(schedule, ["membership_type_id", "kind", "valid_from", "valid_to", "amount",
                                                   "rate", "minimum", "maximum"]))
    return schedule


POLICY_NUMBERS = {"due_day": (1, 28), "reminder_days": (1, 365), "second_reminder_days": (1, 730),
                  "arrears_months": (1, 36)}
POLICY_DIGITS = {"bank_account": 11, "nets_customer_id": 8, "nets_agreement_id": 9}


@transaction.atomic
def update_policy(data, *, actor, channel: str = "ui") -> DuesPolicy:
    access.check(actor, lambda: access.may_set(actor))
    current = policy()
    errors: dict[str, list[str]] = {}
    changes = {}
    if data.get("kid_method") not in DuesPolicy.KidMethod.values:
        errors["kid_method"] = [_("Choose MOD10 or MOD11.")]
    if data.get("partial_month") not in DuesPolicy.PartialMonth.values:
        errors["partial_month"] = [_("Choose one of the two rules.")]
    for field in ("kid_method", "partial_month"):
        changes[field] = data.get(field)
    for field, (low, high) in POLICY_NUMBERS.items():
        raw = str(data.get(field, "")).strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[field] = [_("A whole number from %(a)s to %(b)s.") % {"a": low, "b": high}]
        else:
            changes[field] = int(raw)
    for field, length in POLICY_DIGITS.items():
        raw = str(data.get(field, "")).strip().replace(".", "").replace(" ", "")
        if raw and (not raw.isdigit() or len(raw) != length):
            errors[field] = [_("%(n)s digits.") % {"n": length}]
        changes[field] = raw
    if "second_reminder_days" in changes and "reminder_days" in changes and \
            changes["second_reminder_days"] <= changes["reminder_days"]:
        errors["second_reminder_days"] = [_("Must come after the first reminder.")]
    if errors:
        raise InvalidInput(_("The dues settings were not saved."), field_errors=errors)
    diff = audit.diff(current, changes)
    save_versioned(current, diff, as_version(data.get("version")))
    forget_policy()
    audit.record("dues.policy.changed", current, actor=actor, channel=channel, changes=diff)
    return current
