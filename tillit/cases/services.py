"""Every change to a case: validated, on the timeline and in the audit trail, conflict-checked."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.cases import access, daycounts
from tillit.cases.deadlines import add_business_days
from tillit.cases.models import Case, CaseEvent, CaseShare, CaseType, Process, State, Transition
from tillit.core import audit
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.policy import require
from tillit.core.scopes import EDIT, roles_over
from tillit.core.services import next_numbers, save_versioned
from tillit.registry.models import COUNTRIES, OrgUnit, Person
from tillit.registry.validation import Errors


class CaseError(DomainError):
    """A case rule refused the operation."""


def record_event(case, kind, *, actor, body="", public=False, data=None, at=None) -> CaseEvent:
    """Append one entry to the case's timeline (the only way entries are written); the first entry
    by staff after opening is the case's first response."""
    event = CaseEvent.objects.create(case=case, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                                     body=body, public=public, data=data or {}, at=at or timezone.now())
    if event.actor_id and kind != CaseEvent.Kind.OPENED and case.first_response_at is None:
        Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=event.at)
        case.first_response_at = event.at
    from tillit.cases.notify import on_event

    on_event(case, event)
    return event




def _require_work(case, actor, channel) -> None:
    """A person working on a case must be allowed to (`access.may_edit_case`); the system (no actor) and the
    portal's own steps (bookings, replies: the portal's gate decided them) pass."""
    if channel != "portal" and getattr(actor, "pk", None):
        require(access.may_edit_case(actor, case), _("You cannot work on this case."))


def _require_configure(actor) -> None:
    if getattr(actor, "pk", None):
        require(access.may_configure(actor), _("Only those who configure the organisation change case types."))


def _audit(case, action, *, actor, channel, changes):
    audit.record(f"cases.case.{action}", case, actor=actor, channel=channel, changes=changes)


def _due(start: datetime.date, days, unit: OrgUnit):
    return add_business_days(start, days, unit.country) if days else None


# --- case types and processes -------------------------------------------------------------

@transaction.atomic
def define_process(case_type: CaseType, *, states: list[dict], transitions: list[dict], actor=None,
                   channel: str = "ui") -> Process:
    """Publish a new version of the case type's process. Open cases keep the version they started with.

    states: [{"code", "name", "category", "deadline_days"?, "remind_after_days"?}], the first is initial;
    transitions: [{"code", "label", "from", "to", "roles"?}].
    """
    _require_configure(actor)
    errors = Errors()
    codes = [s.get("code") for s in states]
    if not states:
        errors.add("states", _("A process needs at least one state."))
    if len(set(codes)) != len(codes):
        errors.add("states", _("State codes must be unique."))
    for s in states:
        if s.get("category") not in State.Category.values:
            errors.add("states", _("Unknown category “%(c)s”.") % {"c": s.get("category")})
    if states and not any(s.get("category") == State.Category.CLOSED for s in states):
        errors.add("states", _("A process needs a closed state."))
    for t in transitions:
        if t.get("from") not in codes or t.get("to") not in codes:
            errors.add("transitions", _("Transition “%(t)s” names an unknown state.") % {"t": t.get("code")})
    errors.raise_if_any()
    latest = case_type.processes.order_by("-version").first()
    process = Process.objects.create(case_type=case_type, version=(latest.version + 1) if latest else 1)
    # A state or transition whose code and text stay keeps its translations into the new version.
    kept_states = {(x.code, x.name): x.translations for x in latest.states.all()} if latest else {}
    kept_moves = {(x.code, x.label): x.translations for x in latest.transitions.all()} if latest else {}
    by_code = {}
    for order, s in enumerate(states):
        by_code[s["code"]] = State.objects.create(
            process=process, code=s["code"], name=s["name"], category=s["category"], order=order,
            deadline_days=s.get("deadline_days"), remind_after_days=s.get("remind_after_days"),
            translations=s.get("translations") or kept_states.get((s["code"], s["name"]), {}))
    for t in transitions:
        Transition.objects.create(process=process, code=t["code"], label=t["label"], from_state=by_code[t["from"]],
                                  to_state=by_code[t["to"]], roles=t.get("roles", []),
                                  translations=t.get("translations") or kept_moves.get((t["code"], t["label"]), {}))
    audit.record("cases.process.published", process, actor=actor, channel=channel,
                 changes={"version": [None, process.version], "states": [None, codes]})
    return process


@transaction.atomic
def create_case_type(name: str, *, default_unit: OrgUnit, states: list[dict], transitions: list[dict],
                     description: str = "", subject_can_see: bool = True, deadline_days: int | None = None,
                     required_fields=(), is_intake: bool = False, actor=None, channel: str = "ui") -> CaseType:
    _require_configure(actor)
    if not name.strip():
        raise InvalidInput(_("Give the case type a name."), field_errors={"name": [_("This field is required.")]})
    case_type = CaseType.objects.create(name=name.strip(), description=description, default_unit=default_unit,
                                        subject_can_see=subject_can_see, deadline_days=deadline_days,
                                        required_fields=list(required_fields), is_intake=is_intake)
    audit.record("cases.casetype.created", case_type, actor=actor, channel=channel,
                 changes=audit.snapshot(case_type, ["name", "default_unit_id", "subject_can_see", "deadline_days"]))
    define_process(case_type, states=states, transitions=transitions, actor=actor, channel=channel)
    return case_type


TEXT_MAX = 120


@transaction.atomic
def translate_case_type(case_type: CaseType, texts: dict, *, countries=None, actor=None, channel: str = "ui"):
    """Set the translations of a case type's name and of its current process's states and transitions, and
    (with `countries`) where it is offered. `texts`: {"type" | "state:<code>" | "transition:<code>":
    {language: text}}; an empty text removes the translation (the text as written is shown instead).
    Translations are how a text reads, not what the process does: no new process version."""
    _require_configure(actor)
    from django.conf import settings

    languages = {code for code, _name in settings.LANGUAGES}
    known_countries = {code for code, _name in COUNTRIES}
    errors = Errors()
    process = case_type.process
    targets = {"type": case_type}
    targets |= {f"state:{x.code}": x for x in process.states.all()}
    targets |= {f"transition:{x.code}": x for x in process.transitions.all()}
    for key, values in texts.items():
        if key not in targets:
            errors.add("texts", _("Unknown text “%(k)s”.") % {"k": key})
            continue
        for language, text in (values or {}).items():
            if language not in languages:
                errors.add(key, _("Unknown language “%(l)s”.") % {"l": language})
            elif len(str(text or "").strip()) > TEXT_MAX:
                errors.add(key, _("At most %(n)d characters.") % {"n": TEXT_MAX})
    if countries is not None and not set(countries) <= known_countries:
        errors.add("countries", _("Unknown country."))
    errors.raise_if_any()
    changed = {}
    for key, values in texts.items():
        target = targets[key]
        new = dict(target.translations)
        for language, text in (values or {}).items():
            text = str(text or "").strip()
            if text:
                new[language] = text
            else:
                new.pop(language, None)
        if new != target.translations:
            changed[key] = [target.translations, new]
            target.translations = new
            target.save(update_fields=["translations"])
    if countries is not None and sorted(set(countries)) != sorted(case_type.countries):
        changed["countries"] = [case_type.countries, sorted(set(countries))]
        case_type.countries = sorted(set(countries))
        case_type.save(update_fields=["countries"])
    if changed:
        audit.record("cases.casetype.translated", case_type, actor=actor, channel=channel, changes=changed)
    return case_type


# --- cases -----------------------------------------------------------------------------------

def allocate_case_number(year: int) -> str:
    return f"{year}/{next_numbers(f'cases.case.{year}', 1)[0]:05d}"


@transaction.atomic
def open_case(case_type: CaseType, *, title: str, actor, channel: str = "ui", subjects=(), employer=None,
              unit: OrgUnit | None = None, body: str = "", priority: int = Case.Priority.NORMAL,
              tags=(), now=None) -> Case:
    """Open a case of `case_type` in its process's first state, numbered `YYYY/NNNNN` (never reused).

    The one way in for the staff UI, the API, email and the portal. Without `unit`, the case lands where
    `access.unit_for_new_case` says; a person opening it must be allowed to open it there (`access.may_open_case`),
    so the staff pages and the API give the same case or the same refusal. A self-service request (channel
    `portal`) passed the portal's gate for its service and lands in the case type's default unit.
    """
    if channel == "portal" or not getattr(actor, "pk", None):
        unit = unit or case_type.default_unit
    else:
        unit = access.unit_for_new_case(actor, case_type, unit)
        require(access.may_open_case(actor, case_type, unit),
                _("You cannot open a case of this type there: choose a unit you work in, where the type is offered."))
    errors = Errors()
    if not title.strip():
        errors.add("title", _("This field is required."))
    if not case_type.active:
        errors.add("case_type", _("This case type is no longer in use."))
    if "subject" in case_type.required_fields and not subjects:
        errors.add("subjects", _("This case type needs the person it is about."))
    if "employer" in case_type.required_fields and employer is None:
        errors.add("employer", _("This case type needs an employer."))
    if priority not in Case.Priority.values:
        errors.add("priority", _("Unknown priority."))
    errors.raise_if_any()
    now = now or timezone.now()
    process = case_type.process
    state = process.initial_state()
    today = timezone.localtime(now).date()
    case = Case.objects.create(
        number=allocate_case_number(today.year), title=title.strip(), case_type=case_type, process=process,
        state=state, state_since=now, responsible_unit=unit, employer=employer, priority=priority,
        tags=sorted(set(tags)), opened_at=now, due_on=_due(today, case_type.deadline_days, unit),
        state_due_on=_due(today, state.deadline_days, unit))
    if subjects:
        case.subjects.set(subjects)
    record_event(case, CaseEvent.Kind.OPENED, actor=actor, body=body, public=True,
            data={"state": state.code, "unit": unit.pk, "channel": channel}, at=now)
    daycounts.count(unit.pk, now, opened=1)
    _audit(case, "opened", actor=actor, channel=channel, changes={
        "number": [None, case.number], "case_type_id": [None, case_type.pk], "responsible_unit_id": [None, unit.pk],
        "subjects": [None, [p.pk for p in subjects]]})
    return case


def _check_version(case: Case, expected_version):
    if expected_version is not None and expected_version != case.version:
        raise ConflictError(_("Someone else changed this case meanwhile. Reload it; nothing you wrote is lost."))


def available_transitions(case: Case, user) -> list[Transition]:
    """The transitions from the case's state that `user` may take."""
    roles = roles_over(user, "org", case.responsible_unit.path)
    if case.handler_id == getattr(user, "pk", None):
        roles |= {"case_handler"}
    out = []
    for t in Transition.objects.filter(process_id=case.process_id, from_state_id=case.state_id).select_related(
            "to_state"):
        if not t.roles or roles & set(t.roles):
            out.append(t)
    return out


@transaction.atomic
def transition_case(case: Case, code: str, *, actor, channel: str = "ui", note: str = "", outcome: str = "",
                    expected_version: int | None = None, now=None) -> Case:
    """Move the case along one of its process's transitions; closing sets closed_at and the outcome (how it
    ended, if said), reopening clears them."""
    _require_work(case, actor, channel)
    _check_version(case, expected_version)
    allowed = {t.code: t for t in available_transitions(case, actor)}
    if code not in allowed:
        raise CaseError(_("“%(t)s” is not possible from “%(s)s”, or not for you.") % {"t": code, "s": case.state.name},
                        field_errors={"transition": [_("Not possible now.")]})
    if outcome and (outcome not in Case.Outcome.values or allowed[code].to_state.category != State.Category.CLOSED):
        raise CaseError(_("Choose how the case ended, and only when closing it."),
                        field_errors={"outcome": [_("Not an outcome of closing.")]})
    return _move(case, allowed[code], actor=actor, channel=channel, note=note, outcome=outcome,
                 expected_version=expected_version, now=now)


def _move(case: Case, t: Transition, *, actor, channel: str, note: str = "", outcome: str = "", expected_version=None,
          now=None) -> Case:
    """Take transition `t` (already allowed): counts, state, deadline, timeline and audit."""
    now = now or timezone.now()
    old = case.state
    daycounts.count_state(case.responsible_unit_id, now, old.name, (now - case.state_since).total_seconds())
    if t.to_state.category == State.Category.CLOSED and not case.closed_at:
        daycounts.count(case.responsible_unit_id, now, closed=1)
    elif t.to_state.category != State.Category.CLOSED and case.closed_at:
        daycounts.count(case.responsible_unit_id, now, reopened=1)
    case.state = t.to_state
    case.state_since = now
    case.reminded_at = None
    case.state_due_on = _due(timezone.localtime(now).date(), t.to_state.deadline_days, case.responsible_unit)
    changes = {"state": [old.code, t.to_state.code]}
    fields = ["state", "state_since", "state_due_on", "reminded_at"]
    if outcome != case.outcome:
        changes["outcome"] = [case.outcome, outcome]
    case.outcome = outcome  # how it ended when closing; nothing while open
    fields.append("outcome")
    if t.to_state.category == State.Category.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    elif case.closed_at:
        case.closed_at = None
        fields.append("closed_at")
    save_versioned(case, {f: 1 for f in fields}, expected_version)
    record_event(case, CaseEvent.Kind.STATE, actor=actor, body=note, public=case.case_type.subject_can_see,
            data={"from": old.code, "to": t.to_state.code, "transition": t.code,
                  "from_name": old.name, "to_name": t.to_state.name,
                  **({"outcome": outcome} if outcome else {})}, at=now)
    _audit(case, "state_changed", actor=actor, channel=channel, changes=changes)
    return case


@transaction.atomic
def answered(case: Case) -> Case:
    """The person answered a case waiting for them: it moves on by the process's first transition from its state
    to a state of work (in progress), so it is no longer counted as waiting; a process without one leaves it."""
    case = Case.objects.select_for_update().select_related("state", "case_type", "responsible_unit").get(pk=case.pk)
    if case.closed_at or case.state.category != State.Category.WAITING:
        return case
    onward = Transition.objects.filter(process_id=case.process_id, from_state_id=case.state_id,
                                       to_state__category=State.Category.IN_PROGRESS).select_related(
        "to_state").order_by("pk").first()
    if onward is None:
        return case
    return _move(case, onward, actor=None, channel="system", note=_("The person answered."))


@transaction.atomic
def reclassify(case: Case, case_type: CaseType, *, actor, reason: str = "", channel: str = "ui",
               expected_version: int | None = None) -> Case:
    """Give the case another case type (an intake case found to be a wage claim, say). It continues in the new
    type's current process: in the state of the same code, else the first of the same kind (new, in progress,
    waiting), else the first state; its deadlines follow the new state. The actor must be able to open cases of
    the new type in the case's unit."""
    _require_work(case, actor, channel)
    _check_version(case, expected_version)
    if case.closed_at:
        raise CaseError(_("Reopen the case before giving it another case type."))
    if case_type.pk == case.case_type_id:
        raise InvalidInput(_("The case already has this case type."), field_errors={"case_type": [_("The same.")]})
    if getattr(actor, "pk", None):
        require(access.may_open_case(actor, case_type, case.responsible_unit),
                _("This case type is not one you can give a case of this unit."))
    elif not (case_type.active and case_type.offered_in(case.responsible_unit.country)):
        raise InvalidInput(_("This case type is not offered here."), field_errors={"case_type": [_("Not here.")]})
    process = case_type.process
    states = list(process.states.exclude(category=State.Category.CLOSED))
    state = (next((s for s in states if s.code == case.state.code), None)
             or next((s for s in states if s.category == case.state.category), None) or process.initial_state())
    now = timezone.now()
    old_type, old_state = case.case_type, case.state
    daycounts.count_state(case.responsible_unit_id, now, old_state.name, (now - case.state_since).total_seconds())
    case.case_type, case.process, case.state, case.state_since = case_type, process, state, now
    case.state_due_on = _due(timezone.localtime(now).date(), state.deadline_days, case.responsible_unit)
    save_versioned(case, {"case_type": 1, "process": 1, "state": 1, "state_since": 1, "state_due_on": 1},
                   expected_version)
    record_event(case, CaseEvent.Kind.CASE_TYPE, actor=actor, body=str(reason or "").strip()[:2000], data={
        "from": old_type.pk, "to": case_type.pk, "from_name": old_type.name, "to_name": case_type.name,
        "state_from": old_state.code, "state_to": state.code}, at=now)
    _audit(case, "reclassified", actor=actor, channel=channel, changes={
        "case_type_id": [old_type.pk, case_type.pk], "state": [old_state.code, state.code]})
    return case


@transaction.atomic
def set_subjects(case: Case, people, *, actor, channel: str = "ui", expected_version: int | None = None) -> Case:
    """Whom the case is about (an intake case's sender found in the register, a second person added). Each person
    must be one the actor may see; the change is on the timeline (internal) and in the audit trail."""
    _require_work(case, actor, channel)
    _check_version(case, expected_version)
    people = list({p.pk: p for p in people}.values())
    if getattr(actor, "pk", None):
        visible = set(Person.objects.visible_to(actor).filter(pk__in=[p.pk for p in people]).values_list(
            "pk", flat=True))
        if any(p.pk not in visible for p in people):
            raise InvalidInput(_("No such person in your part of the register."),
                               field_errors={"person": [_("Not found.")]})
    if len(people) > 20:
        raise InvalidInput(_("A case is about at most %(n)s people.") % {"n": 20},
                           field_errors={"person": [_("Too many.")]})
    old = sorted(case.subjects.values_list("pk", flat=True))
    new = sorted(p.pk for p in people)
    save_versioned(case, {}, expected_version)  # the version guards the list too: a concurrent change is refused
    if old != new:
        case.subjects.set(people)
        record_event(case, CaseEvent.Kind.SUBJECTS, actor=actor, data={"from": old, "to": new, "names": [
            p.full_name for p in sorted(people, key=lambda p: p.pk)]})
        _audit(case, "subjects_changed", actor=actor, channel=channel, changes={"subject_ids": [old, new]})
    return case


@transaction.atomic
def assign_case(case: Case, handler, *, actor, channel: str = "ui", expected_version: int | None = None) -> Case:
    """Give the case to `handler` (None: back to the unit's queue). The handler must be able to see it."""
    return update_case(case, {"handler": handler}, actor=actor, channel=channel, expected_version=expected_version)


@transaction.atomic
def transfer_case(case: Case, unit: OrgUnit, *, actor, reason: str, channel: str = "ui",
                  expected_version: int | None = None) -> Case:
    """Hand the case to another unit with its whole timeline; the old unit and handler no longer hold it."""
    _require_work(case, actor, channel)
    _check_version(case, expected_version)
    if not reason.strip():
        raise InvalidInput(_("Say why the case moves."), field_errors={"reason": [_("This field is required.")]})
    if unit.pk == case.responsible_unit_id:
        raise CaseError(_("The case is already with %(unit)s.") % {"unit": unit.name},
                        field_errors={"unit": [_("Choose another unit.")]})
    old_unit, old_handler = case.responsible_unit, case.handler_id
    case.responsible_unit = unit
    case.handler = None
    save_versioned(case, {"responsible_unit": 1, "handler": 1}, expected_version)
    if not case.closed_at:  # the open cases each unit holds move with it
        now = timezone.now()
        daycounts.count(old_unit.pk, now, moved_out=1)
        daycounts.count(unit.pk, now, moved_in=1)
    record_event(case, CaseEvent.Kind.TRANSFER, actor=actor, body=reason.strip(), public=False,
            data={"from": old_unit.pk, "to": unit.pk, "from_name": old_unit.name, "to_name": unit.name})
    if case.case_type.subject_can_see:
        record_event(case, CaseEvent.Kind.TRANSFER, actor=actor, public=True,
                body=_("Moved to %(unit)s") % {"unit": unit.name}, data={"to_name": unit.name})
    _audit(case, "transferred", actor=actor, channel=channel, changes={
        "responsible_unit_id": [old_unit.pk, unit.pk], "handler_id": [old_handler, None], "reason": [None, reason]})
    return case


@transaction.atomic
def add_note(case: Case, body: str, *, actor, channel: str = "ui", public: bool = False) -> CaseEvent:
    """An internal note (or, `public`, an entry the subject sees in the portal)."""
    _require_work(case, actor, channel)
    if not body.strip():
        raise InvalidInput(_("Write something."), field_errors={"body": [_("This field is required.")]})
    # Notes never conflict with each other or with edits: the case's version stays.
    event = record_event(case, CaseEvent.Kind.NOTE, actor=actor, body=body.strip(), public=public)
    _audit(case, "note_added", actor=actor, channel=channel, changes={"event_id": [None, event.pk]})
    return event


@transaction.atomic
def set_deadline(case: Case, due_on: datetime.date | None, *, actor, reason: str, channel: str = "ui",
                 expected_version: int | None = None) -> Case:
    return update_case(case, {"due_on": due_on, "reason": reason}, actor=actor, channel=channel,
                       expected_version=expected_version)


@transaction.atomic
def link_cases(case: Case, other: Case, *, actor, channel: str = "ui") -> None:
    """Relate two cases both ways; the actor works on the first and may see the second."""
    _require_work(case, actor, channel)
    if getattr(actor, "pk", None) and channel != "portal":
        require(Case.objects.visible_to(actor).filter(pk=other.pk).exists(), _("You cannot see that case."))
    if case.pk == other.pk:
        raise CaseError(_("A case cannot be related to itself."))
    case.related.add(other)
    for a, b in ((case, other), (other, case)):
        record_event(a, CaseEvent.Kind.LINK, actor=actor, data={"case": b.pk, "number": b.number})
    _audit(case, "linked", actor=actor, channel=channel, changes={"related": [None, other.pk]})


@transaction.atomic
def share_case(case: Case, user, *, actor, channel: str = "ui") -> None:
    """Let one more user see and work on the case, whatever their unit."""
    _require_work(case, actor, channel)
    CaseShare.objects.get_or_create(case=case, user=user)
    _audit(case, "shared", actor=actor, channel=channel, changes={"shared_with": [None, user.pk]})


@transaction.atomic
def update_case(case: Case, data: dict, *, actor, channel: str = "ui", expected_version: int | None = None) -> Case:
    """Change any of title, priority, tags, handler, due_on (with a reason) and related cases at once.

    Everything is validated before anything is written; the write compares the version in the UPDATE
    itself (also when nothing seems to change), so a concurrent change is refused with ConflictError
    and a 4xx leaves the case, version included, as it was.
    """
    _require_work(case, actor, channel)
    _check_version(case, expected_version)
    errors = Errors()
    values = {}
    if "title" in data:
        title = str(data["title"] or "").strip()
        if not title:
            errors.add("title", _("This field is required."))
        elif len(title) > 200:
            errors.add("title", _("At most %(n)d characters.") % {"n": 200})
        values["title"] = title
    if "priority" in data:
        if data["priority"] not in Case.Priority.values:
            errors.add("priority", _("Unknown priority."))
        values["priority"] = data["priority"]
    if "tags" in data:
        tags = data["tags"] or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            errors.add("tags", _("Tags are a list of words."))
        elif len(tags) > 50 or any(len(t.strip()) > 50 for t in tags):
            errors.add("tags", _("At most 50 tags of at most 50 characters."))
        else:
            values["tags"] = sorted({t.strip() for t in tags})
    handler = data.get("handler")
    if "handler" in data and handler is not None and not Case.objects.visible_to(handler, EDIT).filter(
            pk=case.pk).exists():
        errors.add("handler", _("%(user)s cannot work on cases of %(unit)s.") % {
            "user": handler.get_username(), "unit": case.responsible_unit.name})
    if "due_on" in data and data["due_on"] != case.due_on and not str(data.get("reason") or "").strip():
        errors.add("reason", _("Say why the deadline changes."))
    related = list(data.get("related") or [])
    if any(other.pk == case.pk for other in related):
        errors.add("related", _("A case cannot be related to itself."))
    errors.raise_if_any()
    old_handler, old_due = case.handler_id, case.due_on
    if "handler" in data:
        values["handler"] = handler
    if "due_on" in data:
        values["due_on"] = data["due_on"]
    changes = audit.diff(case, values)
    save_versioned(case, changes, expected_version)
    if "handler" in changes:
        record_event(case, CaseEvent.Kind.ASSIGNMENT, actor=actor, data={
            "from": old_handler, "to": case.handler_id, "to_name": handler.get_username() if handler else ""})
        _audit(case, "assigned", actor=actor, channel=channel, changes={"handler_id": [old_handler, case.handler_id]})
    if "due_on" in changes:
        reason = str(data.get("reason") or "").strip()
        span = [old_due.isoformat() if old_due else None, case.due_on.isoformat() if case.due_on else None]
        record_event(case, CaseEvent.Kind.DEADLINE, actor=actor, body=reason, data={"from": span[0], "to": span[1]})
        _audit(case, "deadline_changed", actor=actor, channel=channel, changes={"due_on": span})
    rest = {k: v for k, v in changes.items() if k not in ("handler", "due_on")}
    if rest:
        _audit(case, "changed", actor=actor, channel=channel, changes=rest)
    for other in related:
        link_cases(case, other, actor=actor, channel=channel)
    return case


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): the person's cases keep their number, type and steps; their titles, timeline
    texts and audit values lose the person's values, and the text index follows."""
    from django.db import connection

    from tillit.registry.erasure import scrub_audit, scrub_rows

    cases = Case.objects.filter(subjects=person)
    ids = list(cases.values_list("pk", flat=True))
    scrub_rows(Case.objects.filter(pk__in=ids), ["title"], scrub)  # SQLite's title index follows by trigger
    events = CaseEvent.objects.filter(case_id__in=ids)
    old = dict(events.values_list("pk", "body"))
    changed = scrub_rows(events, ["body", "data"], scrub)
    if connection.vendor == "sqlite" and changed:  # the timeline's index is kept on insert only
        with connection.cursor() as cursor:
            for pk, body in CaseEvent.objects.filter(pk__in=changed).values_list("pk", "body"):
                if old[pk]:
                    cursor.execute("INSERT INTO cases_event_fts(cases_event_fts, rowid, body) VALUES ('delete', %s, "
                                   "%s)", [pk, old[pk]])
                if body:
                    cursor.execute("INSERT INTO cases_event_fts(rowid, body) VALUES (%s, %s)", [pk, body])
    scrub_audit(Case, ids, scrub)
