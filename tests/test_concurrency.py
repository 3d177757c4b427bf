"""Twenty simultaneous versioned updates of one record through the API, all made at the same version: exactly
one is taken (a change, or a "set it to what it is" that changes nothing), every other is refused with 409, and
the answer taken is what the database holds. A "no change" once answered 200 beside a change made at the same
version, so that client's "set it to null" was overwritten by someone who never saw it (a lost update)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from tests import factories
from tillit.core.services import create_token, grant_access

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 20


def _race(token: str, method: str, path: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    answers: list = [None] * len(bodies)

    def run(i, body):
        client = Client()
        try:
            barrier.wait()
            response = getattr(client, method)(f"/api/v1{path}", body, content_type="application/json",
                                               HTTP_AUTHORIZATION=f"Bearer {token}")
            answers[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _check(answers, version: int, stored: dict, field: str, before):
    codes = sorted(code for code, _body in answers)
    assert set(codes) <= {200, 409} and codes.count(200) == 1, codes
    (winner,) = [body for code, body in answers if code == 200]
    assert winner["version"] == version + 1  # the version it was made at is taken, change or not
    assert stored["version"] == winner["version"] and stored[field] == winner[field]


@pytest.fixture
def token(world):
    _t, raw = create_token(world.admin)
    return raw


def test_concurrent_handler_changes_of_a_case(world, token):
    case = factories.case(world.a)
    other = factories.user()
    grant_access(other, "case_handler", "org", world.a.region, actor=None)
    from tillit.cases.services import assign_case

    assign_case(case, world.a.staff, actor=None)
    case.refresh_from_db()
    bodies = [{"handler_id": (None if i % 2 else world.a.staff.pk) if i % 3 else other.pk,
               "version": case.version} for i in range(THREADS)]
    answers = _race(token, "patch", f"/cases/{case.pk}", bodies)
    case.refresh_from_db()
    _check(answers, bodies[0]["version"], {"version": case.version, "handler_id": case.handler_id}, "handler_id",
           world.a.staff.pk)


def test_concurrent_edits_of_a_person(world, token):
    person = world.a.members[1][0]
    bodies = [{"city": person.city if i % 4 == 0 else f"By {i}", "version": person.version} for i in range(THREADS)]
    answers = _race(token, "patch", f"/persons/{person.pk}", bodies)
    person.refresh_from_db()
    _check(answers, bodies[0]["version"], {"version": person.version, "city": person.city}, "city",
           bodies[0]["city"])


def test_concurrent_edits_of_an_employment(world, token):
    employment = world.a.members[1][0].employments.get()
    bodies = [{"position": employment.position if i % 4 == 0 else f"Stilling {i}", "version": employment.version}
              for i in range(THREADS)]
    answers = _race(token, "patch", f"/employments/{employment.pk}", bodies)
    employment.refresh_from_db()
    _check(answers, bodies[0]["version"], {"version": employment.version, "position": employment.position},
           "position", bodies[0]["position"])


def test_concurrent_moves_of_a_membership(world, token):
    from tillit.registry.services import create_org_unit

    _person, membership = world.a.members[1]
    units = [create_org_unit(f"Avdeling {i}", "branch", parent=world.a.region) for i in range(3)]
    bodies = [{"branch_id": (membership.branch_id if i % 4 == 0 else units[i % 3].pk), "version": membership.version}
              for i in range(THREADS)]
    answers = _race(token, "patch", f"/memberships/{membership.pk}", bodies)
    membership.refresh_from_db()
    _check(answers, bodies[0]["version"], {"version": membership.version, "branch_id": membership.branch_id},
           "branch_id", bodies[0]["branch_id"])


def test_concurrent_renames_of_a_document(world, token):
    document = factories.document(world.a, title="Referat")
    bodies = [{"title": "Referat" if i % 4 == 0 else f"Referat {i}", "version": document.version}
              for i in range(THREADS)]
    answers = _race(token, "patch", f"/documents/{document.pk}", bodies)
    document.refresh_from_db()
    _check(answers, bodies[0]["version"], {"version": document.version, "title": document.title}, "title", "Referat")
