"""An update is whole or not at all: every write endpoint and form, sent one valid field beside one
invalid one, answers 4xx (a form: the page again, with the error) and changes nothing — no row, no
version, no audit entry. The snapshot covers every table a write could touch."""

import pytest
from django.urls import reverse

from tests import factories
from tillit.api.main import api
from tillit.cases.models import Case, CaseEvent
from tillit.core.models import AuditEntry, Grant
from tillit.core.services import create_token
from tillit.documents.models import Document, DocumentVersion, ShareLink
from tillit.documents.services import create_share_link
from tillit.dues.models import (
    DeductionNotice,
    Deviation,
    DuesAccount,
    DuesPolicy,
    DuesRun,
    EmployerReturn,
    FeeSchedule,
    GiroFile,
    Invoice,
    LedgerEntry,
)
from tillit.registry.models import (
    DuplicateReview,
    Employer,
    Employment,
    Membership,
    MembershipPeriod,
    OrgUnit,
    Person,
    Role,
)

pytestmark = pytest.mark.django_db
TABLES = [Person, Membership, MembershipPeriod, Employment, Role, OrgUnit, Employer, Case, CaseEvent, Document,
          DocumentVersion, ShareLink, AuditEntry, Grant, DuplicateReview, LedgerEntry, DuesAccount, DuesRun, Invoice,
          DeductionNotice, EmployerReturn, GiroFile, Deviation, FeeSchedule, DuesPolicy]


def _snapshot():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in TABLES}


@pytest.fixture
def scene(world):
    side = world.a
    side.case = factories.case(side, title="Overtime")
    side.document = factories.document(side, title="Minutes", persons=[side.members[1][0]])
    side.share_link, _raw = create_share_link(side.document, actor=side.staff)
    return factories.dues_month(world)


def _api_writes(world):
    a = world.a
    person, membership = a.members[1]
    employment = person.employments.get()
    role = Role.objects.get(person=a.rep_person)
    case, doc = a.case, a.document
    bad = "2026-13-45"
    return [
        ("post", "/persons", {"first_name": "Kari", "last_name": "Nord", "email": "not-an-address"}),
        ("patch", f"/persons/{person.pk}", {"city": "Molde", "email": "not-an-address", "version": person.version}),
        ("patch", f"/persons/{person.pk}", {"city": "Molde", "national_id": "01010112345", "version": person.version}),
        ("post", f"/persons/{person.pk}/merge", {"duplicate_id": 2**40}),
        ("post", "/memberships", {"person_id": person.pk, "membership_type": "ordinary", "branch_id": a.branch.pk,
                                  "joined_on": bad}),
        ("patch", f"/memberships/{membership.pk}", {"membership_type": "ordinary", "branch_id": 2**40,
                                                    "version": membership.version}),
        ("post", f"/memberships/{membership.pk}/status", {"status": "exempt", "on": "2025-01-01", "reason": "",
                                                          "version": membership.version}),
        ("post", "/employments", {"person_id": person.pk, "workplace_id": a.workplace.pk, "starts_on": "2025-01-01",
                                  "percentage": "250"}),
        ("patch", f"/employments/{employment.pk}", {"position": "Leder", "percentage": "abc",
                                                    "version": employment.version}),
        ("post", "/roles", {"person_id": person.pk, "role_type": "workplace_rep", "employer_id": a.workplace.pk,
                            "starts_on": bad}),
        ("patch", f"/roles/{role.pk}", {"ends_on": "1999-01-01"}),
        ("post", "/org-units", {"name": "Ny avdeling", "kind": "planet", "parent_id": a.region.pk}),
        ("patch", f"/org-units/{a.branch.pk}", {"name": "Nytt navn", "code": None}),
        ("post", "/employers", {"name": "Ny AS", "kind": "company", "org_number": "123"}),
        ("patch", f"/employers/{a.workplace.pk}", {"name": "Nytt navn", "address": None}),
        ("post", "/cases", {"case_type_id": case.case_type_id, "title": "Ny sak", "subject_ids": [2**40]}),
        ("patch", f"/cases/{case.pk}", {"title": "changed", "due_on": "not-a-date", "version": case.version}),
        ("patch", f"/cases/{case.pk}", {"title": "changed", "handler_id": 2**40, "version": case.version}),
        ("patch", f"/cases/{case.pk}", {"title": "changed", "related_ids": [case.pk], "version": case.version}),
        ("patch", f"/cases/{case.pk}", {"title": "changed", "due_on": "2030-01-01", "version": case.version}),
        ("post", f"/cases/{case.pk}/events", {"body": "note", "kind": "status"}),
        ("post", f"/cases/{case.pk}/transitions", {"transition": "no-such", "note": "x", "version": case.version}),
        ("post", f"/cases/{case.pk}/transfer", {"unit_id": 2**40, "reason": "moving", "version": case.version}),
        ("patch", f"/documents/{doc.pk}", {"title": "New title", "category": "no-such", "version": doc.version}),
        ("delete", f"/documents/{doc.pk}", None),
        ("post", f"/documents/{doc.pk}/release", {"reason": "x"}),
        ("post", f"/documents/{doc.pk}/links", {"kind": "person", "ref": "nobody-at-all"}),
        ("post", f"/documents/{doc.pk}/share-links", {"note": "for the lawyer", "expires": "1999-01-01"}),
        ("post", f"/documents/{doc.pk}/checkin", {}),
        ("post", "/dues/runs", {"period": "2027-03", "dry_run": "perhaps"}),
    ]


def test_every_api_write_refuses_a_half_valid_request_and_changes_nothing(client, scene):
    _token, raw = create_token(scene.admin)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    writes = _api_writes(scene)
    covered = {(method, path.split("/")[1]) for method, path, _body in writes}
    declared = {(m, p.removeprefix("/api/v1").split("/")[1]) for p, ops in api.get_openapi_schema()["paths"].items()
                for m in ops if m in ("post", "patch", "delete") and not p.endswith(("/imports", "/documents",
                                                                                        "/versions"))}
    assert declared <= covered, f"write endpoints without a partial-write probe: {declared - covered}"
    for method, path, body in writes:
        before = _snapshot()
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = getattr(client, method)(f"/api/v1{path}", body, **kwargs, **auth)
        assert 400 <= response.status_code < 500, f"{method.upper()} {path}: {response.status_code}"
        assert _snapshot() == before, f"{method.upper()} {path} answered {response.status_code} but wrote"


def _form_writes(world):
    a = world.a
    person, membership = a.members[1]
    case, doc = a.case, a.document
    return [
        ("person_edit", [person.pk], {"first_name": person.first_name, "last_name": person.last_name,
                                      "city": "Molde", "email": "not-an-address", "country": "NO",
                                      "preferred_language": "nb", "version": person.version}),
        ("person_new", [], {"first_name": "Kari", "last_name": "Nord", "birth_date": "2099-01-01", "country": "NO",
                            "preferred_language": "nb"}),
        ("membership_new", [person.pk], {"membership_type": "ordinary", "branch": a.branch.pk,
                                         "joined_on": "not-a-date"}),
        ("membership_status", [person.pk, membership.pk], {"status": "exempt", "on": "2025-01-01", "reason": "",
                                                           "version": membership.version}),
        ("employment_new", [person.pk], {"workplace": a.workplace.pk, "starts_on": "2025-01-01",
                                         "percentage": "250"}),
        ("role_new", [person.pk], {"role_type": "workplace_rep", "node": f"employer:{a.workplace.pk}",
                                   "starts_on": "not-a-date"}),
        ("case_new", [], {"case_type": case.case_type_id, "title": "", "body": "Spørsmål"}),
        ("case_transition", [case.pk], {"transition": "no-such", "note": "x", "version": case.version}),
        ("case_transfer", [case.pk], {"unit": 2**40, "reason": "moving", "version": case.version}),
        ("case_tags", [case.pk], {"tags": "a,b", "version": case.version - 1 if case.version > 0 else 999}),
        ("case_link", [case.pk], {"number": "1999/99999"}),
        ("document_edit", [doc.pk], {"title": "New title", "category": "no-such", "version": doc.version}),
        ("document_link", [doc.pk], {"kind": "person", "ref": "nobody-at-all"}),
        ("document_share", [doc.pk], {"note": "for the lawyer", "expires": "1999-01-01"}),
        ("document_delete", [doc.pk], {"reason": ""}),
        ("dues_run_start", [], {"period": "2027-13"}),
        ("dues_person_entry", [person.pk], {"kind": "correction", "amount": "12x", "reason": "goodwill"}),
        ("dues_schedules", [], {"membership_type": membership.membership_type_id, "kind": "fixed", "amount": "400",
                                "valid_from": "not-a-date"}),
        ("dues_policy", [], {"kid_method": "mod11", "partial_month": "pro_rata", "due_day": "99",
                             "reminder_days": "14", "second_reminder_days": "28", "arrears_months": "3",
                             "version": 1}),
        ("dues_deviation_resolve", [a.deviation.pk], {"action": "correct", "amount": "abc", "note": "ok",
                                                      "version": a.deviation.version}),
    ]


def test_every_form_refuses_a_half_valid_submission_and_changes_nothing(client, scene):
    client.force_login(scene.admin)
    for name, args, data in _form_writes(scene):
        before = _snapshot()
        response = client.post(reverse(name, args=args), data)
        assert response.status_code in (200, 302, 400, 404, 409, 422), f"{name}: {response.status_code}"
        assert _snapshot() == before, f"{name} answered {response.status_code} but wrote"
