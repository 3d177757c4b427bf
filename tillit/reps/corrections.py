"""A rep corrects a member's data: phone and email on the person, workplace, position, percentage and end date on
an employment under the rep's node. Through the registry's services (audited, channel `rep`, version-checked);
the fields in TILLIT_REP_APPROVAL_FIELDS wait for member service instead, and an approval applies them only if
the record is still as the rep saw it."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tillit.core import audit
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.scopes import EDIT, scope_for
from tillit.registry.models import Employer, Employment, Person
from tillit.registry.services import clean_employment, update_employment, update_person
from tillit.reps.models import Correction

PERSON_FIELDS = ("phone", "email")
EMPLOYMENT_FIELDS = ("workplace", "position", "percentage", "ends_on")
LABELS = {"phone": gettext_lazy("Phone"), "email": gettext_lazy("Email"), "workplace": gettext_lazy("Workplace"),
          "position": gettext_lazy("Position"), "percentage": gettext_lazy("Employment percentage"),
          "ends_on": gettext_lazy("Employment ends")}


def needs_approval(field: str) -> bool:
    return field in settings.TILLIT_REP_APPROVAL_FIELDS


def may_decide(user) -> bool:
    """Member service: an edit grant (a rep's role gives only the right to correct, never to approve)."""
    return not scope_for(user, EDIT).empty


def _stored(field: str, value) -> str:
    if value is None:
        return ""
    return str(value.pk) if field == "workplace" else str(value)


def _shown(field: str, value) -> str:
    return value.name if field == "workplace" and value is not None else _stored(field, value)


@transaction.atomic
def submit(person: Person, *, actor, person_data: dict, person_version, employments: dict, workplaces) -> dict:
    """Apply or queue a rep's corrections. `employments` maps an Employment (under the rep's node) to
    (data, version the rep saw); `workplaces` are the workplaces the rep may move a member to. Returns the
    fields applied and the corrections now waiting."""
    applied, waiting = [], []
    current = {f: getattr(person, f) for f in PERSON_FIELDS}
    direct = {f: person_data[f] for f in PERSON_FIELDS  # what the rep changed (the form sends every field)
              if f in person_data and not needs_approval(f) and str(person_data[f]).strip() != current[f]}
    if direct:
        before = dict(current)
        update_person(person, direct, actor=actor, channel="rep", expected_version=person_version)
        applied += [f for f in direct if getattr(person, f) != before[f]]
    for f in PERSON_FIELDS:
        if f in person_data and needs_approval(f) and str(person_data[f]).strip() != current[f]:
            from tillit.registry.validation import clean_person

            cleaned = clean_person({f: person_data[f]}, partial=True)
            waiting.append(_queue(person, None, f, current[f], cleaned.get(f, ""), person.version, actor))
    allowed = {w.pk: w for w in workplaces}
    for employment, (data, version) in employments.items():
        data = dict(data)
        if "workplace" in data:
            chosen = str(data["workplace"] or "").strip()
            if not chosen.isdigit() or int(chosen) not in allowed and int(chosen) != employment.workplace_id:
                raise InvalidInput(_("Choose one of the workplaces offered."), field_errors={
                    f"employment-{employment.pk}-workplace": [_("Not one of the workplaces offered.")]})
            data["workplace"] = allowed.get(int(chosen)) or employment.workplace
        try:
            cleaned = clean_employment(data, partial=True)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field_errors={f"employment-{employment.pk}-{k}": v
                                                          for k, v in exc.field_errors.items()}) from exc
        changed = {f: v for f, v in cleaned.items() if getattr(employment, f) != v}
        now = {f: v for f, v in changed.items() if not needs_approval(f)}
        if now:
            update_employment(employment, now, actor=actor, channel="rep", expected_version=version)
        elif version is not None and version != employment.version:  # only queued: still made at the latest
            raise ConflictError(_("Someone else changed this record meanwhile. Reload it and make your change "
                                  "again."))
        applied += list(now)
        for f, v in changed.items():
            if needs_approval(f):
                waiting.append(_queue(person, employment, f, getattr(employment, f), v, employment.version, actor))
    return {"applied": applied, "waiting": waiting}


def _queue(person, employment, field, old, new, version, actor) -> Correction:
    if Correction.objects.filter(person=person, employment=employment, field=field,
                                 state=Correction.State.PENDING).exists():
        raise ConflictError(_("A correction of this field already waits for member service."), field_errors={
            field: [_("A correction of this field already waits for member service.")]})
    correction = Correction.objects.create(
        person=person, employment=employment, field=field, old_value=_stored(field, old)[:200],
        new_value=_stored(field, new)[:200], shown_value=_shown(field, new)[:200], base_version=version,
        requested_by=actor)
    audit.record("reps.correction.requested", correction, actor=actor, channel="rep", person_id=person.pk,
                 changes={field: [_shown(field, old), _shown(field, new)]})
    return correction


def _locked(correction: Correction) -> Correction:
    found = Correction.objects.select_for_update().filter(pk=correction.pk).first()
    if found is None or found.state != Correction.State.PENDING:
        raise ConflictError(_("This correction has already been decided."))
    return found


@transaction.atomic
def approve(correction: Correction, *, actor) -> Correction:
    """Apply the correction as the rep asked it (their change, recorded with channel `rep`), if the record is
    still at the version they saw; a newer change makes this a conflict, to be rejected or asked again."""
    correction = _locked(correction)
    if correction.requested_by_id == actor.pk:
        raise DomainError(_("A correction is approved by someone other than the one who asked for it."))
    value = correction.new_value
    if correction.employment_id:
        employment = Employment.objects.get(pk=correction.employment_id)
        if correction.field == "workplace":
            value = Employer.objects.filter(pk=int(value)).first()
        update_employment(employment, {correction.field: value or None}, actor=correction.requested_by,
                          channel="rep", expected_version=correction.base_version)
    else:
        update_person(correction.person, {correction.field: value}, actor=correction.requested_by, channel="rep",
                      expected_version=correction.base_version)
    return _decide(correction, Correction.State.APPROVED, actor, "")


@transaction.atomic
def reject(correction: Correction, *, actor, reason: str) -> Correction:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the rep a reason."), field_errors={"reason": [_("This field is required.")]})
    return _decide(_locked(correction), Correction.State.REJECTED, actor, reason[:500])


def _decide(correction, state, actor, reason) -> Correction:
    correction.state, correction.decided_by, correction.decided_at, correction.reason = (
        state, actor, timezone.now(), reason)
    correction.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    audit.record(f"reps.correction.{state}", correction, actor=actor, channel="ui", person_id=correction.person_id,
                 changes={correction.field: [correction.old_value, correction.shown_value],
                          **({"reason": [None, reason]} if reason else {})})
    return correction


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): corrections of the person keep which field and when, not the values; a
    declaration they signed keeps its date, not their name."""
    from tillit.registry.erasure import scrub_rows
    from tillit.reps.models import Signature

    scrub_rows(Correction.objects.filter(person=person), ["old_value", "new_value", "shown_value", "reason"], scrub)
    if person.user_id:
        scrub_rows(Signature.objects.filter(user_id=person.user_id), ["name"], scrub)
