"""Registry endpoints: thin, every read through visible_to, every write through services."""

import datetime
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tillit.api.types import (
    Bool,
    Country,
    Day,
    Id,
    In,
    Language,
    Line,
    OptionalDay,
    PageNumber,
    PageSize,
    Query,
    Version,
)
from tillit.core.audit import access_log_for, log_access, log_access_many
from tillit.core.errors import InvalidInput
from tillit.core.scopes import EDIT, IMPORT, VIEW_ACCESS_LOG, channel_for, scope_for
from tillit.registry import services
from tillit.registry.importer import ImportFileError, parse_mapping, run_import
from tillit.registry.listing import clean_filters, log_people_shown, people_page
from tillit.registry.models import (
    Employer,
    Employment,
    Membership,
    MembershipStatus,
    MembershipType,
    OrgUnit,
    Person,
    Role,
    RoleType,
    employers_in_scope,
    registration_home,
    shown_national_ids,
    units_in_scope,
)
from tillit.registry.validation import Errors

router = Router(tags=["registry"])
MembershipStatusCode = Literal[tuple(MembershipStatus.values)]
Code = Annotated[Line, Field(max_length=30)]
NodeName = Annotated[Line, Field(min_length=1, max_length=200)]


class Message(Schema):
    message: str
    errors: dict[str, list[str]] = {}


class PersonOut(Schema):
    id: int
    first_name: str
    last_name: str
    birth_date: datetime.date | None
    national_id: str | None
    email: str
    phone: str
    address_line: str
    postal_code: str
    city: str
    country: str
    preferred_language: str
    version: int


class PersonIn(In):
    first_name: Line | None = None
    last_name: Line | None = None
    birth_date: OptionalDay = None
    national_id: Annotated[Line, Field(max_length=20)] | None = None
    email: Line | None = None
    phone: Annotated[Line, Field(max_length=30)] | None = None
    address_line: Line | None = None
    postal_code: Annotated[Line, Field(max_length=10)] | None = None
    city: Line | None = None
    country: Country | None = None
    preferred_language: Language | None = None


class PersonPatch(PersonIn):
    version: Version


class Page(Schema):
    page: int
    has_next: bool


class PersonPage(Page):
    items: list[PersonOut]


def _people_out(people, user) -> list[dict]:
    ids = shown_national_ids(user, people)
    return [{f: getattr(p, f) for f in PersonOut.model_fields} | {"national_id": ids.get(p.pk)} for p in people]


def _person_out(person: Person, user) -> dict:
    return _people_out([person], user)[0]


@router.get("/persons", response=PersonPage)
def list_persons(request, q: Query = "", unit: Id | None = None, workplace: Id | None = None,
                 status: MembershipStatusCode | None = None, membership_type: Code | None = None,
                 page: PageNumber = 1, page_size: PageSize = 50):
    filters = clean_filters({"q": q, "unit": str(unit or ""), "workplace": str(workplace or ""), "status": status,
                             "membership_type": membership_type})
    rows, has_next = people_page(Person.objects.visible_to(request.user).current(), filters, page=page,
                                 size=page_size)
    log_people_shown(request.user, rows, channel="api", filters=filters)
    return {"items": _people_out(rows, request.user), "page": page, "has_next": has_next}


@router.get("/persons/{person_id}", response=PersonOut)
def get_person(request, person_id: Id):
    person = get_object_or_404(Person.objects.visible_to(request.user), pk=person_id)
    if person.user_id != request.user.pk:
        log_access(request.user, "person.view", channel="api", person_id=person.pk)
    return _person_out(person, request.user)


class AccessOut(Schema):
    at: datetime.datetime
    user: str | None
    channel: str
    action: str
    detail: dict

    @staticmethod
    def resolve_user(obj):
        return obj.user.username if obj.user_id else None


@router.get("/persons/{person_id}/access-log", response=list[AccessOut])
def person_access_log(request, person_id: Id, limit: Annotated[int, Field(ge=1, le=10_000)] = 200):
    """Who saw this person's data, newest first (a data-protection right; needs the access-log permission)."""
    person = get_object_or_404(Person.objects.visible_to(request.user, VIEW_ACCESS_LOG), pk=person_id)
    return list(access_log_for(person.pk, limit=limit))


def _require(user, perm):
    if scope_for(user, perm).empty:
        raise Http404


@router.post("/persons", response={201: PersonOut, 409: Message, 422: Message})
def create_person(request, payload: PersonIn, force: bool = False):
    _require(request.user, EDIT)
    data = payload.model_dump() | registration_home(request.user)
    person = services.create_person(data, actor=request.user, channel="api", allow_duplicate=force)
    return Status(201, _person_out(person, request.user))


@router.patch("/persons/{person_id}", response={200: PersonOut, 409: Message, 422: Message})
def update_person(request, person_id: Id, payload: PersonPatch):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=person_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.update_person(person, data, actor=request.user, channel=channel_for(request.user, "api"),
                           expected_version=version)
    return Status(200, _person_out(person, request.user))


class MergeIn(In):
    duplicate_id: Id


@router.post("/persons/{person_id}/merge", response={200: PersonOut, 422: Message})
def merge_person(request, person_id: Id, payload: MergeIn):
    from tillit.core.scopes import MERGE

    survivor = get_object_or_404(Person.objects.visible_to(request.user, MERGE), pk=person_id)
    duplicate = get_object_or_404(Person.objects.visible_to(request.user, MERGE), pk=payload.duplicate_id)
    services.merge_persons(survivor, duplicate, actor=request.user, channel="api")
    return Status(200, _person_out(survivor, request.user))


# --- memberships ------------------------------------------------------------------------------

class MembershipOut(Schema):
    id: int
    person_id: int
    member_number: str
    membership_type: str
    branch_id: int
    joined_on: datetime.date
    notice_on: datetime.date | None
    ends_on: datetime.date | None
    status: str
    version: int

    @staticmethod
    def resolve_membership_type(obj):
        return obj.membership_type.code


class MembershipPage(Page):
    items: list[MembershipOut]


class MembershipIn(In):
    person_id: Id
    membership_type: Code
    branch_id: Id
    joined_on: Day
    member_number: Annotated[Line, Field(max_length=20)] | None = None


class StatusIn(In):
    status: MembershipStatusCode
    on: Day
    ends_on: OptionalDay = None
    reason: Annotated[Line, Field(max_length=200)] = ""
    version: Version


def _slice(qs, page, page_size, *, shown_to=None, action: str = ""):
    """One page of `qs`; with `shown_to`, the people on it (rows with a person_id) go to the access log."""
    offset = (page - 1) * page_size
    rows = list(qs[offset:offset + page_size + 1])
    if shown_to is not None:
        log_access_many(shown_to, action, [r.person_id for r in rows[:page_size]], channel="api")
    return {"items": rows[:page_size], "page": page, "has_next": len(rows) > page_size}


def _shown(request, obj, action: str):
    log_access_many(request.user, action, [obj.person_id], channel="api")
    return obj


@router.get("/memberships", response=MembershipPage)
def list_memberships(request, person_id: Id | None = None, status: MembershipStatusCode | None = None,
                     page: PageNumber = 1, page_size: PageSize = 50):
    qs = Membership.objects.visible_to(request.user).select_related("membership_type").order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    if status:
        qs = qs.filter(status=status)
    return _slice(qs, page, page_size, shown_to=request.user, action="membership.list")


@router.get("/memberships/{membership_id}", response=MembershipOut)
def get_membership(request, membership_id: Id):
    return _shown(request, get_object_or_404(Membership.objects.visible_to(request.user).select_related(
        "membership_type"), pk=membership_id), "membership.view")


@router.post("/memberships", response={201: MembershipOut, 409: Message, 422: Message})
def create_membership(request, payload: MembershipIn):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=payload.person_id)
    mtype = MembershipType.objects.filter(code=payload.membership_type).first()
    branch = OrgUnit.objects.filter(pk=payload.branch_id).first()
    errors = Errors()
    if mtype is None:
        errors.add("membership_type", "Unknown membership type.")
    if branch is None or not scope_for(request.user, EDIT).covers_node("org", branch.path):
        errors.add("branch_id", "Unknown org unit, or outside your scope.")
    errors.raise_if_any()
    membership = services.add_membership(person, membership_type=mtype, branch=branch, joined_on=payload.joined_on,
                                         member_number=payload.member_number, actor=request.user, channel="api")
    return Status(201, membership)


class MembershipPatch(In):
    membership_type: Code | None = None
    branch_id: Id | None = None
    version: Version


@router.patch("/memberships/{membership_id}", response={200: MembershipOut, 409: Message, 422: Message})
def update_membership(request, membership_id: Id, payload: MembershipPatch):
    membership = get_object_or_404(Membership.objects.visible_to(request.user, EDIT).select_related(
        "membership_type"), pk=membership_id)
    errors = Errors()
    mtype = branch = None
    if payload.membership_type is not None:
        mtype = MembershipType.objects.filter(code=payload.membership_type).first()
        if mtype is None:
            errors.add("membership_type", "Unknown membership type.")
    if payload.branch_id is not None:
        branch = OrgUnit.objects.filter(pk=payload.branch_id).first()
        if branch is None or not scope_for(request.user, EDIT).covers_node("org", branch.path):
            errors.add("branch_id", "Unknown org unit, or outside your scope.")
    errors.raise_if_any()
    services.update_membership(membership, membership_type=mtype, branch=branch, actor=request.user, channel="api",
                               expected_version=payload.version)
    return Status(200, membership)


@router.post("/memberships/{membership_id}/status", response={200: MembershipOut, 409: Message, 422: Message})
def change_status(request, membership_id: Id, payload: StatusIn):
    membership = get_object_or_404(Membership.objects.visible_to(request.user, EDIT).select_related(
        "membership_type"), pk=membership_id)
    services.change_membership_status(membership, payload.status, on=payload.on, ends_on=payload.ends_on,
                                      reason=payload.reason, actor=request.user, channel="api",
                                      expected_version=payload.version)
    return Status(200, membership)


# --- employments ------------------------------------------------------------------------------

class EmploymentOut(Schema):
    id: int
    person_id: int
    workplace_id: int
    starts_on: datetime.date
    ends_on: datetime.date | None
    position: str
    percentage: float
    payroll_deduction: bool
    version: int


class EmploymentPage(Page):
    items: list[EmploymentOut]


class EmploymentIn(In):
    person_id: Id
    workplace_id: Id
    starts_on: Day
    ends_on: OptionalDay = None
    position: Annotated[Line, Field(max_length=100)] = ""
    percentage: Annotated[Line, Field(max_length=10)] | float | None = None
    payroll_deduction: Bool = False


class EmploymentPatch(In):
    ends_on: OptionalDay = None
    position: Annotated[Line, Field(max_length=100)] | None = None
    percentage: Annotated[Line, Field(max_length=10)] | float | None = None
    payroll_deduction: Bool | None = None
    version: Version


def _workplace_for(user, workplace_id):
    node = Employer.objects.filter(pk=workplace_id).select_related("region").first()
    if node is None or not node.in_scope(scope_for(user, EDIT)):
        raise InvalidInput("Unknown workplace.", field_errors={"workplace_id": ["Unknown workplace, or outside your "
                                                                                "scope."]})
    return node


@router.get("/employments", response=EmploymentPage)
def list_employments(request, person_id: Id | None = None, workplace_id: Id | None = None, page: PageNumber = 1,
                     page_size: PageSize = 50):
    qs = Employment.objects.visible_to(request.user).order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    if workplace_id:
        qs = qs.filter(workplace_id=workplace_id)
    return _slice(qs, page, page_size, shown_to=request.user, action="employment.list")


@router.get("/employments/{employment_id}", response=EmploymentOut)
def get_employment(request, employment_id: Id):
    return _shown(request, get_object_or_404(Employment.objects.visible_to(request.user), pk=employment_id),
                  "employment.view")


@router.post("/employments", response={201: EmploymentOut, 422: Message})
def create_employment(request, payload: EmploymentIn):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=payload.person_id)
    data = payload.model_dump()
    data["workplace"] = _workplace_for(request.user, data.pop("workplace_id"))
    data.pop("person_id")
    return Status(201, services.add_employment(person, data, actor=request.user, channel="api"))


@router.patch("/employments/{employment_id}", response={200: EmploymentOut, 409: Message, 422: Message})
def update_employment(request, employment_id: Id, payload: EmploymentPatch):
    employment = get_object_or_404(Employment.objects.visible_to(request.user, EDIT), pk=employment_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    employment = services.update_employment(employment, data, actor=request.user, channel="api",
                                            expected_version=version)
    return Status(200, employment)


# --- roles ------------------------------------------------------------------------------------

class RoleOut(Schema):
    id: int
    person_id: int
    role_type: str
    org_unit_id: int | None
    employer_id: int | None
    starts_on: datetime.date
    ends_on: datetime.date | None

    @staticmethod
    def resolve_role_type(obj):
        return obj.role_type.code


class RolePage(Page):
    items: list[RoleOut]


class RoleIn(In):
    person_id: Id
    role_type: Code
    org_unit_id: Id | None = None
    employer_id: Id | None = None
    starts_on: Day
    ends_on: OptionalDay = None


@router.get("/roles", response=RolePage)
def list_roles(request, person_id: Id | None = None, page: PageNumber = 1, page_size: PageSize = 50):
    qs = Role.objects.visible_to(request.user).select_related("role_type").order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    return _slice(qs, page, page_size, shown_to=request.user, action="role.list")


@router.get("/roles/{role_id}", response=RoleOut)
def get_role(request, role_id: Id):
    return _shown(request, get_object_or_404(Role.objects.visible_to(request.user).select_related("role_type"),
                                             pk=role_id), "role.view")


@router.post("/roles", response={201: RoleOut, 422: Message})
def create_role(request, payload: RoleIn):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=payload.person_id)
    errors = Errors()
    role_type = RoleType.objects.filter(code=payload.role_type).first()
    if role_type is None:
        errors.add("role_type", "Unknown role type.")
    if (payload.org_unit_id is None) == (payload.employer_id is None):
        errors.add("org_unit_id", "Give exactly one of org_unit_id and employer_id.")
    scope = scope_for(request.user, EDIT)
    node = None
    if payload.org_unit_id is not None:
        node = OrgUnit.objects.filter(pk=payload.org_unit_id).first()
        if node is None or not scope.covers_node("org", node.path):
            errors.add("org_unit_id", "Unknown org unit, or outside your scope.")
    elif payload.employer_id is not None:
        node = Employer.objects.filter(pk=payload.employer_id).select_related("region").first()
        if node is None or not node.in_scope(scope):
            errors.add("employer_id", "Unknown employer, or outside your scope.")
    starts, ends = payload.starts_on, payload.ends_on
    errors.raise_if_any()
    role = services.assign_role(person, role_type, node, starts_on=starts, ends_on=ends, actor=request.user,
                                channel="api")
    return Status(201, role)


class RolePatch(In):
    ends_on: Day


@router.patch("/roles/{role_id}", response={200: RoleOut, 422: Message})
def end_role(request, role_id: Id, payload: RolePatch):
    role = get_object_or_404(Role.objects.visible_to(request.user, EDIT).select_related("role_type", "person"),
                             pk=role_id)
    role = services.end_role(role, on=payload.ends_on, actor=request.user, channel="api")
    return Status(200, role)


# --- the two trees ----------------------------------------------------------------------------

class NodeOut(Schema):
    id: int
    name: str
    kind: str
    path: str
    depth: int
    parent_id: Id | None = None


class OrgUnitOut(NodeOut):
    code: str
    country: str
    support_contact: str = ""


class EmployerOut(NodeOut):
    org_number: str
    country: str
    region_id: int | None


class OrgUnitPage(Page):
    items: list[OrgUnitOut]


class EmployerPage(Page):
    items: list[EmployerOut]


class OrgUnitIn(In):
    name: NodeName
    kind: Literal[tuple(OrgUnit.Kind.values)]
    parent_id: Id | None = None
    code: Annotated[Line, Field(max_length=20)] = ""
    country: Country = "NO"


class EmployerIn(In):
    name: NodeName
    kind: Literal[tuple(Employer.Kind.values)]
    parent_id: Id | None = None
    org_number: Annotated[Line, Field(max_length=20)] = ""
    country: Country = "NO"
    region_id: Id | None = None
    address: Annotated[Line, Field(max_length=200)] = ""


def _nodes_in_scope(user, model, tree):
    if tree == "employer":
        return employers_in_scope(user)
    return OrgUnit.objects.filter(pk__in=[u.pk for u in units_in_scope(user)])


def _node_out(node):
    parent = type(node).objects.get_parent(node)
    return {**{f.name: getattr(node, f.name) for f in node._meta.concrete_fields if f.name != "region"},
            "region_id": getattr(node, "region_id", None), "parent_id": parent.pk if parent else None}


@router.get("/org-units", response=OrgUnitPage)
def list_org_units(request, page: PageNumber = 1, page_size: PageSize = 100):
    data = _slice(_nodes_in_scope(request.user, OrgUnit, "org").order_by("path"), page, page_size)
    data["items"] = [_node_out(n) for n in data["items"]]
    return data


@router.get("/org-units/{unit_id}", response=OrgUnitOut)
def get_org_unit(request, unit_id: Id):
    return _node_out(get_object_or_404(_nodes_in_scope(request.user, OrgUnit, "org"), pk=unit_id))


@router.post("/org-units", response={201: OrgUnitOut, 422: Message})
def create_org_unit(request, payload: OrgUnitIn):
    scope = scope_for(request.user, EDIT)
    parent = None
    if payload.parent_id is not None:
        parent = get_object_or_404(_nodes_in_scope(request.user, OrgUnit, "org"), pk=payload.parent_id)
    if not (scope.everything or (parent and scope.covers_node("org", parent.path))):
        raise Http404
    node = services.create_org_unit(payload.name, payload.kind, parent=parent, code=payload.code,
                                    country=payload.country, actor=request.user, channel="api")
    return Status(201, _node_out(node))


class NodePatch(In):
    # Leave a field out to keep it; null is not a value any of these can take.
    name: NodeName = None
    code: Annotated[Line, Field(max_length=20)] = None
    address: Annotated[Line, Field(max_length=200)] = None
    support_contact: Annotated[Line, Field(max_length=300)] = None  # org units: whom their users ask about logins
    region_id: Id = None


def _patch_node(request, node, payload: NodePatch):
    data = payload.model_dump(exclude_unset=True)
    if "region_id" in data:
        region = OrgUnit.objects.filter(pk=data.pop("region_id")).first()
        if region is None or not scope_for(request.user, EDIT).covers_node("org", region.path):
            raise InvalidInput("Unknown region.", field_errors={"region_id": ["Unknown org unit, or outside your "
                                                                              "scope."]})
        data["region"] = region
    return services.update_node(node, data, actor=request.user, channel="api")


@router.patch("/org-units/{unit_id}", response={200: OrgUnitOut, 422: Message})
def update_org_unit(request, unit_id: Id, payload: NodePatch):
    scope = scope_for(request.user, EDIT)
    node = get_object_or_404(_nodes_in_scope(request.user, OrgUnit, "org"), pk=unit_id)
    if not scope.covers_node("org", node.path):
        raise Http404
    return Status(200, _node_out(_patch_node(request, node, payload)))


@router.patch("/employers/{employer_id}", response={200: EmployerOut, 422: Message})
def update_employer(request, employer_id: Id, payload: NodePatch):
    node = get_object_or_404(employers_in_scope(request.user, EDIT), pk=employer_id)
    return Status(200, _node_out(_patch_node(request, node, payload)))


@router.get("/employers", response=EmployerPage)
def list_employers(request, kind: Literal[tuple(Employer.Kind.values)] | None = None, org_number: Query = "",
                   page: PageNumber = 1, page_size: PageSize = 100):
    qs = _nodes_in_scope(request.user, Employer, "employer").order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if org_number:
        qs = qs.filter(org_number=org_number.replace(" ", ""))
    data = _slice(qs, page, page_size)
    data["items"] = [_node_out(n) for n in data["items"]]
    return data


@router.get("/employers/{employer_id}", response=EmployerOut)
def get_employer(request, employer_id: Id):
    return _node_out(get_object_or_404(_nodes_in_scope(request.user, Employer, "employer"), pk=employer_id))


@router.post("/employers", response={201: EmployerOut, 422: Message})
def create_employer(request, payload: EmployerIn):
    scope = scope_for(request.user, EDIT)
    parent = None
    if payload.parent_id is not None:
        parent = get_object_or_404(_nodes_in_scope(request.user, Employer, "employer"), pk=payload.parent_id)
    if not (scope.everything or (parent and scope.covers_node("employer", parent.path))):
        raise Http404
    region = OrgUnit.objects.filter(pk=payload.region_id).first() if payload.region_id else None
    node = services.create_employer(payload.name, payload.kind, parent=parent, org_number=payload.org_number,
                                    country=payload.country, region=region, address=payload.address,
                                    actor=request.user, channel="api")
    return Status(201, _node_out(node))


# --- import -----------------------------------------------------------------------------------

class ImportErrorOut(Schema):
    row: int
    column: str
    value: str
    message: str


class ImportOut(Schema):
    rows: int
    created: int
    updated: int
    unchanged: int
    memberships_created: int
    employments_created: int
    rejected: int
    applied: bool
    errors: list[ImportErrorOut]


@router.post("/imports", response={200: ImportOut, 422: ImportOut | Message})
def create_import(request, file: File[UploadedFile], mapping: Form[str] = "", skip_invalid: Form[bool] = False):
    _require(request.user, IMPORT)
    if file.size > settings.TILLIT_IMPORT_MAX_BYTES:
        raise InvalidInput("The file is too large.", field_errors={"file": ["The file is too large."]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        with open(path, "wb") as fh:
            for chunk in file.chunks():
                fh.write(chunk)
        try:
            result = run_import(path, actor=request.user, mapping=parse_mapping(mapping), skip_invalid=skip_invalid,
                                filename=file.name or "")
        except ImportFileError as exc:
            raise InvalidInput(str(exc), field_errors={"file": [str(exc)]}) from None
    return Status(200 if result.applied else 422, result.as_dict())
