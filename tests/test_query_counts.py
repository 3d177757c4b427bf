"""Every list and detail page takes a bounded number of queries, the same however many rows it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tillit.cases import services as case_services

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    client.get(url)  # the first request may fill caches (grants, units, session)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _dues_entries(person, i):
    import datetime

    from tillit.dues.models import Invoice, LedgerEntry

    charge = LedgerEntry.objects.create(person=person, kind="charge", amount=45000, method="invoice", source="run",
                                        period=datetime.date(2026, i + 1, 1), due_on=datetime.date(2026, i + 1, 20))
    Invoice.objects.create(charge=charge, person=person, kid=f"10000{i}", amount=45000, language="nb",
                           due_on=charge.due_on, paid=45000 if i % 2 else 0)
    LedgerEntry.objects.create(person=person, kind="payment", amount=-45000, source="giro", reason=f"Betalt {i}")


def _more_of_everything(world, case, document, person):
    import datetime

    from tillit.registry import services

    for i in range(3):  # the person page's sections, each with a row more than before
        employment = services.add_employment(person, {"workplace": world.a.workplace, "starts_on": f"201{i}-01-01",
                                                      "ends_on": f"201{i}-12-31", "position": f"Job {i}"},
                                             actor=world.a.staff)
        services.add_leave(employment, starts_on=datetime.date(2010 + i, 3, 1), reason="Permisjon",
                           actor=world.a.staff)
        board = factories.role_type("board_member", grant_role="")
        services.assign_role(person, board, world.a.branch, starts_on=datetime.date(2010 + i, 1, 1),
                             ends_on=datetime.date(2010 + i, 6, 1), actor=world.a.staff)
        services.update_person(person, {"city": f"By {i}"}, actor=world.a.staff)
    for i in range(1, 4):  # the dues section: charges with their invoices, and payments
        _dues_entries(person, i)
    for i in range(6):
        factories.member(world.a.branch)
        other = factories.case(world.a, title=f"More {i}", case_type=case.case_type)
        case_services.add_note(case, f"note {i}", actor=world.a.staff)
        factories.document(world.a, title=f"Extra {i}", persons=[person], cases=[case])
        case_services.link_cases(case, other, actor=world.a.staff)


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_list_and_detail_pages_take_the_same_queries_for_more_rows(client, world, who):
    user = world.admin if who == "admin" else world.a.staff
    person = world.a.members[1][0]
    case = factories.case(world.a, subjects=[person])
    document = factories.document(world.a, persons=[person], cases=[case])
    _dues_entries(person, 0)  # an account with entries: the balance and what is outstanding are shown
    client.force_login(user)
    pages = {
        # After a first request the user, unread count, saved views, unit list and configured names are kept
        # (tillit.core.kept): a list is its count and its rows, a detail page its record and its sections.
        "case queue": (reverse("cases"), 5),  # its count, its rows, whom they are about, that in the access log
        # 12: the case and its subjects, access log, events, states, transitions, deliveries, documents, what
        # the person sees, related cases, the colleagues it may be given to and the case types it may become
        "case page": (reverse("case", args=[case.pk]), 12),
        "people list": (reverse("people"), 7),
        "person search": (reverse("people") + f"?q={person.last_name}", 7),
        "person page": (reverse("person", args=[person.pk]), 14),  # its sections: dues, messages, cases, …
        "documents": (reverse("documents"), 5),
        "document page": (reverse("document", args=[document.pk]), 12),
        "organisation": (reverse("org_units"), 3),
        "employers": (reverse("employers"), 4),
    }
    before = {name: _queries(client, url) for name, (url, _bound) in pages.items()}
    _more_of_everything(world, case, document, person)
    after = {name: _queries(client, url) for name, (url, _bound) in pages.items()}
    assert after == before, {k: (before[k], after[k]) for k in pages if before[k] != after[k]}
    assert all(after[name] <= bound for name, (_url, bound) in pages.items()), str(after)


def test_portal_self_service_and_workspace_pages_take_the_same_queries_for_more_rows(client, world):
    from tillit.registry import services

    rep, person = world.a.rep, world.a.rep_person  # a workplace rep, and a member with cases of their own
    case = factories.case(world.a, subjects=[person])
    case_services.add_note(case, "Svar til medlemmet", public=True, actor=world.a.staff)
    as_rep = {
        # The kept figures and the lists of the rep's workplace; the member's own pages in self-service.
        "reps dashboard": (reverse("reps_home"), 12),
        "reps member list": (reverse("reps_members"), 12),  # the total: the last count, then its figure
        "reps coverage": (reverse("reps_coverage"), 12),  # with the staff units and the last count
        "portal home": (reverse("portal_home"), 4),
        "portal case page": (reverse("portal_case", args=[case.pk]), 7),
    }
    # The one search: 16 queries on SQLite, 19 on PostgreSQL (the typo-tolerant name lookups are queries of their own
    # there, on the trigram and word indexes).
    search_bound = 20 if connection.vendor == "postgresql" else 17
    as_staff = {"home": ("/", 12), "one search": (reverse("search") + f"?q={world.a.marker}", search_bound)}

    def counts():
        found = {}
        for user, pages in ((rep, as_rep), (world.a.staff, as_staff)):
            client.force_login(user)
            found |= {name: _queries(client, url) for name, (url, _bound) in pages.items()}
        return found

    before = counts()
    for i in range(6):  # more of everything each page lists
        other, _membership = factories.member(world.a.branch, first_name=f"{world.a.marker}x{i}")
        services.add_employment(other, {"workplace": world.a.workplace, "starts_on": "2022-01-01",
                                        "position": "Lærling"}, actor=world.a.staff)
        more = factories.case(world.a, subjects=[person], title=f"Spørsmål {i}")
        case_services.add_note(more, f"Svar {i}", public=True, actor=world.a.staff)
        case_services.add_note(case, f"Mer {i}", public=True, actor=world.a.staff)
        case_services.assign_case(more, world.a.staff, actor=world.a.staff)
    after = counts()
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    bounds = {name: bound for pages in (as_rep, as_staff) for name, (_url, bound) in pages.items()}
    assert all(after[name] <= bound for name, bound in bounds.items()), str(after)
