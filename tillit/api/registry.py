"""Registry endpoints: thin, every read through visible_to, every write through services."""

import datetime
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tillit.core.audit import log_access
from tillit.core.errors import ConflictError, InvalidInput
from tillit.core.scopes import EDIT, IMPORT, channel_for, scope_for
from tillit.registry import services
from tillit.registry.importer import ImportFileError, parse_mapping, run_import
from tillit.registry.listing import clean_filters, people_page
from tillit.registry.models import (
    Employer,
    Employment,
    Membership,
    MembershipType,
    OrgUnit,
    Person,
    Role,
    RoleType,
    default_unit_for,
    employers_in_scope,
    shown_national_ids,
    units_in_scope,
)
from tillit.registry.validation import Errors, parse_date

router = Router(tags=["registry"])
MAX_PAGE = 200


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


class PersonIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    national_id: str | None = None
    email: str | None = None
    phone: str | None = None
    address_line: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    preferred_language: str | None = None


class PersonPatch(PersonIn):
    version: int


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


def _paging(page: int, page_size: int):
    if page < 1 or not (1 <= page_size <= MAX_PAGE):
        raise InvalidInput("Bad paging.", field_errors={"page_size": [f"Between 1 and {MAX_PAGE}."]})


@router.get("/persons", response=PersonPage)
def list_persons(request, q: str = "", unit: str = "", workplace: str = "", status: str = "",
                 membership_type: str = "", page: int = 1, page_size: int = 50):
    _paging(page, page_size)
    filters = clean_filters({"q": q, "unit": unit, "workplace": workplace, "status": status,
                             "membership_type": membership_type})
    rows, has_next = people_page(Person.objects.visible_to(request.user).current(), filters, page=page,
                                 size=page_size)
    return {"items": _people_out(rows, request.user), "page": page, "has_next": has_next}


@router.get("/persons/{person_id}", response=PersonOut)
def get_person(request, person_id: int):
    person = get_object_or_404(Person.objects.visible_to(request.user), pk=person_id)
    if person.user_id != request.user.pk:
        log_access(request.user, "person.view", channel="api", person_id=person.pk)
    return _person_out(person, request.user)


def _visible_conflict(exc: ConflictError, user) -> ConflictError:
    ids = [p.pk for p, _r in exc.matches]
    exc.visible_matches = list(Person.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return exc


def _require(user, perm):
    if scope_for(user, perm).empty:
        raise Http404


@router.post("/persons", response={201: PersonOut, 409: Message, 422: Message})
def create_person(request, payload: PersonIn, force: bool = False):
    _require(request.user, EDIT)
    data = payload.model_dump()
    data["unit"] = default_unit_for(request.user)
    try:
        person = services.create_person(data, actor=request.user, channel="api", allow_duplicate=force)
    except ConflictError as exc:
        raise _visible_conflict(exc, request.user) from None
    return Status(201, _person_out(person, request.user))


@router.patch("/persons/{person_id}", response={200: PersonOut, 409: Message, 422: Message})
def update_person(request, person_id: int, payload: PersonPatch):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=person_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.update_person(person, data, actor=request.user, channel=channel_for(request.user, "api"),
                           expected_version=version)
    return Status(200, _person_out(person, request.user))


class MergeIn(Schema):
    duplicate_id: int


@router.post("/persons/{person_id}/merge", response={200: PersonOut, 422: Message})
def merge_person(request, person_id: int, payload: MergeIn):
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


class MembershipIn(Schema):
    person_id: int
    membership_type: str
    branch_id: int
    joined_on: str
    member_number: str | None = None


class StatusIn(Schema):
    status: str
    on: str
    ends_on: str | None = None
    reason: str = ""
    version: int


def _slice(qs, page, page_size):
    _paging(page, page_size)
    offset = (page - 1) * page_size
    rows = list(qs[offset:offset + page_size + 1])
    return {"items": rows[:page_size], "page": page, "has_next": len(rows) > page_size}


@router.get("/memberships", response=MembershipPage)
def list_memberships(request, person_id: int | None = None, status: str = "", page: int = 1, page_size: int = 50):
    qs = Membership.objects.visible_to(request.user).select_related("membership_type").order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    if status:
        qs = qs.filter(status=status)
    return _slice(qs, page, page_size)


@router.get("/memberships/{membership_id}", response=MembershipOut)
def get_membership(request, membership_id: int):
    return get_object_or_404(Membership.objects.visible_to(request.user).select_related("membership_type"),
                             pk=membership_id)


def _date(value, field):
    errors = Errors()
    day = parse_date(value, field, errors)
    if day is None and field not in errors.by_field:
        errors.add(field, "This field is required.")
    errors.raise_if_any()
    return day


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
    joined = parse_date(payload.joined_on, "joined_on", errors)
    errors.raise_if_any()
    membership = services.add_membership(person, membership_type=mtype, branch=branch, joined_on=joined,
                                         member_number=payload.member_number, actor=request.user, channel="api")
    return Status(201, membership)


class MembershipPatch(Schema):
    membership_type: str | None = None
    branch_id: int | None = None
    version: int


@router.patch("/memberships/{membership_id}", response={200: MembershipOut, 409: Message, 422: Message})
def update_membership(request, membership_id: int, payload: MembershipPatch):
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
def change_status(request, membership_id: int, payload: StatusIn):
    membership = get_object_or_404(Membership.objects.visible_to(request.user, EDIT).select_related(
        "membership_type"), pk=membership_id)
    on = _date(payload.on, "on")
    ends_on = parse_date(payload.ends_on, "ends_on", Errors()) if payload.ends_on else None
    services.change_membership_status(membership, payload.status, on=on, ends_on=ends_on, reason=payload.reason,
                                      actor=request.user, channel="api", expected_version=payload.version)
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


class EmploymentIn(Schema):
    person_id: int
    workplace_id: int
    starts_on: str
    ends_on: str | None = None
    position: str = ""
    percentage: str | float | None = None
    payroll_deduction: bool = False


class EmploymentPatch(Schema):
    ends_on: str | None = None
    position: str | None = None
    percentage: str | float | None = None
    payroll_deduction: bool | None = None
    version: int


def _workplace_for(user, workplace_id):
    node = Employer.objects.filter(pk=workplace_id).select_related("region").first()
    if node is None or not node.in_scope(scope_for(user, EDIT)):
        raise InvalidInput("Unknown workplace.", field_errors={"workplace_id": ["Unknown workplace, or outside your "
                                                                                "scope."]})
    return node


@router.get("/employments", response=EmploymentPage)
def list_employments(request, person_id: int | None = None, workplace_id: int | None = None, page: int = 1,
                     page_size: int = 50):
    qs = Employment.objects.visible_to(request.user).order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    if workplace_id:
        qs = qs.filter(workplace_id=workplace_id)
    return _slice(qs, page, page_size)


@router.get("/employments/{employment_id}", response=EmploymentOut)
def get_employment(request, employment_id: int):
    return get_object_or_404(Employment.objects.visible_to(request.user), pk=employment_id)


@router.post("/employments", response={201: EmploymentOut, 422: Message})
def create_employment(request, payload: EmploymentIn):
    person = get_object_or_404(Person.objects.visible_to(request.user, EDIT), pk=payload.person_id)
    data = payload.model_dump()
    data["workplace"] = _workplace_for(request.user, data.pop("workplace_id"))
    data.pop("person_id")
    return Status(201, services.add_employment(person, data, actor=request.user, channel="api"))


@router.patch("/employments/{employment_id}", response={200: EmploymentOut, 409: Message, 422: Message})
def update_employment(request, employment_id: int, payload: EmploymentPatch):
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


class RoleIn(Schema):
    person_id: int
    role_type: str
    org_unit_id: int | None = None
    employer_id: int | None = None
    starts_on: str
    ends_on: str | None = None


@router.get("/roles", response=RolePage)
def list_roles(request, person_id: int | None = None, page: int = 1, page_size: int = 50):
    qs = Role.objects.visible_to(request.user).select_related("role_type").order_by("id")
    if person_id:
        qs = qs.filter(person_id=person_id)
    return _slice(qs, page, page_size)


@router.get("/roles/{role_id}", response=RoleOut)
def get_role(request, role_id: int):
    return get_object_or_404(Role.objects.visible_to(request.user).select_related("role_type"), pk=role_id)


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
    starts = parse_date(payload.starts_on, "starts_on", errors)
    ends = parse_date(payload.ends_on, "ends_on", errors)
    if starts is None and "starts_on" not in errors.by_field:
        errors.add("starts_on", "This field is required.")
    errors.raise_if_any()
    role = services.assign_role(person, role_type, node, starts_on=starts, ends_on=ends, actor=request.user,
                                channel="api")
    return Status(201, role)


class RolePatch(Schema):
    ends_on: str


@router.patch("/roles/{role_id}", response={200: RoleOut, 422: Message})
def end_role(request, role_id: int, payload: RolePatch):
    role = get_object_or_404(Role.objects.visible_to(request.user, EDIT).select_related("role_type", "person"),
                             pk=role_id)
    role = services.end_role(role, on=_date(payload.ends_on, "ends_on"), actor=request.user, channel="api")
    return Status(200, role)


# --- the two trees ----------------------------------------------------------------------------

class NodeOut(Schema):
    id: int
    name: str
    kind: str
    path: str
    depth: int
    parent_id: int | None = None


class OrgUnitOut(NodeOut):
    code: str
    country: str


class EmployerOut(NodeOut):
    org_number: str
    country: str
    region_id: int | None


class OrgUnitPage(Page):
    items: list[OrgUnitOut]


class EmployerPage(Page):
    items: list[EmployerOut]


class OrgUnitIn(Schema):
    name: str
    kind: str
    parent_id: int | None = None
    code: str = ""
    country: str = "NO"


class EmployerIn(Schema):
    name: str
    kind: str
    parent_id: int | None = None
    org_number: str = ""
    country: str = "NO"
    region_id: int | None = None
    address: str = ""


def _nodes_in_scope(user, model, tree):
    if tree == "employer":
        return employers_in_scope(user)
    return OrgUnit.objects.filter(pk__in=[u.pk for u in units_in_scope(user)])


def _node_out(node):
    parent = type(node).objects.get_parent(node)
    return {**{f.name: getattr(node, f.name) for f in node._meta.concrete_fields if f.name != "region"},
            "region_id": getattr(node, "region_id", None), "parent_id": parent.pk if parent else None}


@router.get("/org-units", response=OrgUnitPage)
def list_org_units(request, page: int = 1, page_size: int = 100):
    data = _slice(_nodes_in_scope(request.user, OrgUnit, "org").order_by("path"), page, page_size)
    data["items"] = [_node_out(n) for n in data["items"]]
    return data


@router.get("/org-units/{unit_id}", response=OrgUnitOut)
def get_org_unit(request, unit_id: int):
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


class NodePatch(Schema):
    name: str | None = None
    code: str | None = None
    address: str | None = None
    region_id: int | None = None


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
def update_org_unit(request, unit_id: int, payload: NodePatch):
    scope = scope_for(request.user, EDIT)
    node = get_object_or_404(_nodes_in_scope(request.user, OrgUnit, "org"), pk=unit_id)
    if not scope.covers_node("org", node.path):
        raise Http404
    return Status(200, _node_out(_patch_node(request, node, payload)))


@router.patch("/employers/{employer_id}", response={200: EmployerOut, 422: Message})
def update_employer(request, employer_id: int, payload: NodePatch):
    node = get_object_or_404(employers_in_scope(request.user, EDIT), pk=employer_id)
    return Status(200, _node_out(_patch_node(request, node, payload)))


@router.get("/employers", response=EmployerPage)
def list_employers(request, kind: str = "", org_number: str = "", page: int = 1, page_size: int = 100):
    qs = _nodes_in_scope(request.user, Employer, "employer").order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if org_number:
        qs = qs.filter(org_number=org_number.replace(" ", ""))
    data = _slice(qs, page, page_size)
    data["items"] = [_node_out(n) for n in data["items"]]
    return data


@router.get("/employers/{employer_id}", response=EmployerOut)
def get_employer(request, employer_id: int):
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
