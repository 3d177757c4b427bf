"""Case endpoints: thin, every read through Case.objects.visible_to, every write through cases.services."""

import datetime
from typing import Annotated, Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from tillit.api.registry import Message, Page
from tillit.api.types import Bool, Id, In, Line, OptionalDay, PageNumber, PageSize, Query, Tag, Text, Version
from tillit.cases import services
from tillit.cases.models import Case, CaseEvent, CaseType
from tillit.cases.queues import QUEUES, filter_cases
from tillit.core.audit import log_access_many
from tillit.core.errors import InvalidInput
from tillit.core.scopes import EDIT, scope_for
from tillit.registry.models import OrgUnit, Person, employers_in_scope

router = Router(tags=["cases"])
CaseTitle = Annotated[Line, Field(max_length=200)]
Priority = Literal[tuple(Case.Priority.values)]


class StateOut(Schema):
    code: str
    name: str
    category: str
    deadline_days: int | None


class TransitionOut(Schema):
    code: str
    label: str
    from_state: str
    to_state: str
    roles: list[str]

    @staticmethod
    def resolve_from_state(obj):
        return obj.from_state.code

    @staticmethod
    def resolve_to_state(obj):
        return obj.to_state.code


class CaseTypeOut(Schema):
    id: int
    name: str
    description: str
    default_unit_id: int
    subject_can_see: bool
    deadline_days: int | None
    process_version: int
    states: list[StateOut]
    transitions: list[TransitionOut]


def _case_type_out(ct: CaseType) -> dict:
    process = ct.process
    return {"id": ct.pk, "name": ct.name, "description": ct.description, "default_unit_id": ct.default_unit_id,
            "subject_can_see": ct.subject_can_see, "deadline_days": ct.deadline_days,
            "process_version": process.version, "states": list(process.states.all()),
            "transitions": list(process.transitions.select_related("from_state", "to_state"))}


@router.get("/case-types", response=list[CaseTypeOut])
def list_case_types(request):
    if scope_for(request.user, "view").empty:
        return []
    return [_case_type_out(ct) for ct in CaseType.objects.filter(active=True)]


@router.get("/case-types/{case_type_id}", response=CaseTypeOut)
def get_case_type(request, case_type_id: Id):
    if scope_for(request.user, "view").empty:
        raise Http404
    return _case_type_out(get_object_or_404(CaseType, pk=case_type_id))


class CaseOut(Schema):
    id: int
    number: str
    title: str
    case_type_id: int
    state: str
    state_name: str
    responsible_unit_id: int
    handler_id: int | None
    subject_ids: list[int]
    related_ids: list[int]
    employer_id: int | None
    priority: int
    tags: list[str]
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    outcome: str = ""
    due_on: datetime.date | None
    version: int


def _case_out(case: Case) -> dict:
    return {**{f: getattr(case, f) for f in ["id", "number", "title", "case_type_id", "responsible_unit_id",
                                             "handler_id", "employer_id", "priority", "tags", "opened_at",
                                             "closed_at", "outcome", "due_on", "version"]},
            "state": case.state.code, "state_name": case.state.name,
            "subject_ids": [p.pk for p in case.subjects.all()],
            "related_ids": [c.pk for c in case.related.all()]}


class CasePage(Page):
    items: list[CaseOut]


def _visible(request, pk, perm="view") -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user, perm).select_related("state", "case_type",
                                                                                       "responsible_unit"), pk=pk)


@router.get("/cases", response=CasePage)
def list_cases(request, queue: Literal[tuple(QUEUES)] = "unit", unit_id: Id | None = None, state: Query = "",
               q: Query = "", page: PageNumber = 1, page_size: PageSize = 50):
    cases = QUEUES[queue](Case.objects.visible_to(request.user), request.user, timezone.localdate())
    cases = filter_cases(cases, unit_id=unit_id, q=q, user=request.user)
    if state:
        cases = cases.filter(state__code=state)
    offset = (page - 1) * page_size
    rows = list(cases.select_related("state").prefetch_related("subjects", "related").order_by("due_on", "pk")
                [offset:offset + page_size + 1])
    log_access_many(request.user, "case.list", [p.pk for c in rows[:page_size] for p in c.subjects.all()],
                    channel="api")
    return {"items": [_case_out(c) for c in rows[:page_size]], "page": page, "has_next": len(rows) > page_size}


def _log_subjects(request, case: Case, action: str):
    log_access_many(request.user, action, [p.pk for p in case.subjects.all()], channel="api",
                    detail={"case": case.pk})


@router.get("/cases/{case_id}", response=CaseOut)
def get_case(request, case_id: Id):
    case = _visible(request, case_id)
    _log_subjects(request, case, "case.view")
    return _case_out(case)


class CaseIn(In):
    case_type_id: Id
    title: CaseTitle
    subject_ids: Annotated[list[Id], Field(max_length=100)] = []
    employer_id: Id | None = None
    unit_id: Id | None = None
    body: Text = ""
    priority: Priority = Case.Priority.NORMAL
    tags: Annotated[list[Tag], Field(max_length=50)] = []


@router.post("/cases", response={201: CaseOut, 422: Message})
def create_case(request, payload: CaseIn):
    """The staff page's rule (cases.access): the unit asked for, else the type's default unit when covered, else
    the first unit covered where the type is offered; refused (403) where the token's user may not open it."""
    case_type = CaseType.objects.filter(pk=payload.case_type_id, active=True).first()
    if case_type is None:
        raise InvalidInput("Unknown case type.", field_errors={"case_type_id": ["Unknown case type."]})
    unit = None
    if payload.unit_id is not None:
        unit = OrgUnit.objects.filter(pk=payload.unit_id).first()
        if unit is None:
            raise InvalidInput("Unknown unit.", field_errors={"unit_id": ["Unknown org unit."]})
    subjects = list(Person.objects.visible_to(request.user).filter(pk__in=payload.subject_ids))
    if len(subjects) != len(set(payload.subject_ids)):
        raise InvalidInput("Unknown person.", field_errors={"subject_ids": ["Unknown person, or outside your scope."]})
    employer = None
    if payload.employer_id is not None:
        employer = employers_in_scope(request.user).filter(pk=payload.employer_id).first()
        if employer is None:
            raise InvalidInput("Unknown employer.", field_errors={"employer_id": ["Unknown employer."]})
    case = services.open_case(case_type, title=payload.title, subjects=subjects, employer=employer, unit=unit,
                              body=payload.body, priority=payload.priority, tags=payload.tags, actor=request.user,
                              channel="api")
    return Status(201, _case_out(case))


class CasePatch(In):
    title: CaseTitle | None = None
    priority: Priority | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    handler_id: Id | None = None
    due_on: OptionalDay = None
    reason: Annotated[Line, Field(max_length=500)] = ""
    related_ids: Annotated[list[Id], Field(max_length=100)] | None = None  # cases to link (never removed here)
    version: Version


@router.patch("/cases/{case_id}", response={200: CaseOut, 409: Message, 422: Message})
def update_case(request, case_id: Id, payload: CasePatch):
    """Every field is checked before anything is written; one versioned write, or nothing."""
    from django.contrib.auth import get_user_model

    case = _visible(request, case_id, EDIT)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    if "handler_id" in data:
        handler_id = data.pop("handler_id")
        data["handler"] = get_user_model().objects.filter(pk=handler_id, is_active=True).first() if handler_id \
            else None
        if handler_id and data["handler"] is None:
            raise InvalidInput("Unknown user.", field_errors={"handler_id": ["Unknown user."]})
    if "related_ids" in data:
        ids = data.pop("related_ids") or []
        data["related"] = list(Case.objects.visible_to(request.user).filter(pk__in=ids))
        if len(data["related"]) != len(set(ids)):
            raise InvalidInput("Unknown case.", field_errors={"related_ids": ["Unknown case, or outside your scope."]})
    services.update_case(case, data, actor=request.user, channel="api", expected_version=version)
    return Status(200, _case_out(_visible(request, case_id)))


class EventOut(Schema):
    id: int
    at: datetime.datetime
    actor_id: int | None
    kind: str
    public: bool
    body: str
    data: dict


class EventIn(In):
    kind: Literal["note"] = "note"
    body: Annotated[Text, Field(min_length=1)]
    public: Bool = False


@router.get("/cases/{case_id}/events", response=list[EventOut])
def list_events(request, case_id: Id):
    case = _visible(request, case_id)
    _log_subjects(request, case, "case.timeline")
    return list(case.events.all())


@router.post("/cases/{case_id}/events", response={201: EventOut, 422: Message})
def add_event(request, case_id: Id, payload: EventIn):
    case = _visible(request, case_id, EDIT)
    if payload.kind != CaseEvent.Kind.NOTE:
        raise InvalidInput("Only notes are added here.", field_errors={"kind": ["Only “note” for now."]})
    return Status(201, services.add_note(case, payload.body, public=payload.public, actor=request.user,
                                         channel="api"))


class TransitionIn(In):
    transition: Annotated[Line, Field(max_length=60)]
    note: Text = ""
    outcome: Annotated[Line, Field(max_length=20)] = ""  # when closing: resolved, partly, not_resolved, …
    version: Version


@router.post("/cases/{case_id}/transitions", response={200: CaseOut, 409: Message, 422: Message})
def take_transition(request, case_id: Id, payload: TransitionIn):
    case = _visible(request, case_id, EDIT)
    services.transition_case(case, payload.transition, note=payload.note, outcome=payload.outcome,
                             actor=request.user, channel="api", expected_version=payload.version)
    return Status(200, _case_out(case))


class TransferIn(In):
    unit_id: Id
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]
    version: Version


@router.post("/cases/{case_id}/transfer", response={200: CaseOut, 409: Message, 422: Message})
def transfer(request, case_id: Id, payload: TransferIn):
    case = _visible(request, case_id, EDIT)
    unit = OrgUnit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise InvalidInput("Unknown unit.", field_errors={"unit_id": ["Unknown org unit."]})
    services.transfer_case(case, unit, reason=payload.reason, actor=request.user, channel="api",
                           expected_version=payload.version)
    return Status(200, _case_out(case))



