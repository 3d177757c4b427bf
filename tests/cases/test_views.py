import re

import pytest
from django.urls import reverse

from tests import factories
from tillit.cases.models import Case
from tillit.core.services import grant_access

pytestmark = pytest.mark.django_db


def test_a_case_is_opened_from_the_person_page_and_shows_there(client, world):
    person = world.a.members[1][0]
    factories.case_type(world.a.branch, name="Legal aid")
    client.force_login(world.a.staff)
    page = client.get(reverse("case_new"), {"subject": person.pk})
    ctype = page.context["form"].fields["case_type"].queryset.get(name="Legal aid")
    response = client.post(reverse("case_new"), {"case_type": ctype.pk, "title": "Dismissal", "body": "Fired",
                                                 "priority": 3, "subject": person.pk})
    case = Case.objects.get(title="Dismissal")
    assert response.status_code == 302 and list(case.subjects.all()) == [person]
    assert case.number in client.get(reverse("person", args=[person.pk])).content.decode()


def test_the_queues_sort_out_mine_unassigned_and_overdue(client, world):
    import datetime

    from tillit.cases import services

    mine = factories.case(world.a, title="Mine")
    services.assign_case(mine, world.a.staff, actor=world.a.staff)
    late = factories.case(world.a, title="Late", case_type=mine.case_type)
    services.set_deadline(late, datetime.date(2020, 1, 1), actor=world.a.staff, reason="test")
    client.force_login(world.a.staff)

    def titles(queue):
        return [c["title"] for c in client.get(reverse("cases"), {"queue": queue}).context["rows"]]

    assert titles("mine") == ["Mine"]
    assert titles("unassigned") == ["Late"]
    assert titles("overdue") == ["Late"]
    assert set(titles("unit")) == {"Mine", "Late"}


def test_the_case_page_walks_the_case_and_reports_a_conflict(client, world):
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    url = reverse("case", args=[case.pk])
    assert "Start" in client.get(url).content.decode()
    client.post(reverse("case_transition", args=[case.pk]), {"transition": "start", "version": case.version})
    stale = client.post(reverse("case_transfer", args=[case.pk]), {"unit": world.b.branch.pk,
                                                                   "reason": "Belongs to the Beta office",
                                                                   "version": case.version}, follow=True)
    assert "Someone else changed this case" in stale.content.decode()
    assert "Belongs to the Beta office" in stale.content.decode()  # what was typed is still there
    case.refresh_from_db()
    assert case.state.code == "open" and case.responsible_unit == world.a.branch
    client.post(reverse("case_note", args=[case.pk]), {"body": "Spoke to the employer"})
    client.post(reverse("case_transfer", args=[case.pk]), {"unit": world.b.branch.pk, "reason": "Their region",
                                                           "version": case.version})
    case.refresh_from_db()
    assert case.responsible_unit == world.b.branch
    assert client.get(url).status_code == 404  # no longer ours
    client.force_login(world.b.staff)
    body = client.get(url).content.decode()
    assert "Spoke to the employer" in body and "Their region" in body


def test_the_case_queue_takes_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    ctype = factories.case_type(world.a.branch)
    for i in range(3):
        factories.case(world.a, case_type=ctype, title=f"C{i}")
    client.force_login(world.a.staff)
    # 14: the session, the user's scope, the total, the page, whom the cases are about and the access-log entry,
    # the units, saved views, units to transfer to, the unread notifications
    with django_assert_max_num_queries(14):
        client.get(reverse("cases"))
    for i in range(10):
        factories.case(world.a, case_type=ctype, title=f"D{i}")
    with django_assert_max_num_queries(14):
        client.get(reverse("cases"))


def test_bulk_assign_takes_the_ticked_cases_in_scope_only(client, world):
    ctype = factories.case_type(world.a.branch)
    mine = [factories.case(world.a, case_type=ctype, title=f"A{i}") for i in range(3)]
    theirs = factories.case(world.b, case_type=ctype, unit=world.b.branch)
    client.force_login(world.a.staff)
    client.post(reverse("case_bulk"), {"case": [mine[0].pk, mine[2].pk, theirs.pk], "to": "me"})
    handlers = dict(Case.objects.values_list("title", "handler_id"))
    assert handlers["A0"] == handlers["A2"] == world.a.staff.pk
    assert handlers["A1"] is None and handlers[theirs.title] is None


def _rows(prefix: str, rows: list[dict], initial: int) -> dict:
    """A process table as the browser posts it."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def test_the_system_owner_defines_a_case_type_and_publishes_a_new_process_version(client, world):
    from tillit.cases.models import CaseType

    client.force_login(world.a.staff)
    assert client.get(reverse("case_types")).status_code == 404  # a case handler does not configure
    client.force_login(world.admin)
    bad = client.post(reverse("case_type_new"), {"name": "", "default_unit": world.a.branch.pk})
    assert bad.status_code == 422 and not CaseType.objects.exists()
    response = client.post(reverse("case_type_new"), {"name": "Stray cat", "default_unit": world.a.branch.pk,
                                                      "subject_can_see": "on"})
    ctype = CaseType.objects.get(name="Stray cat")
    assert response.status_code == 302 and response.url == reverse("case_type_process", args=[ctype.pk])
    assert [s.code for s in ctype.process.states.all()] == ["new", "in_progress", "closed"]
    case = factories.case(world.a, case_type=ctype)
    editor = client.get(reverse("case_type_process", args=[ctype.pk])).content.decode()
    assert 'value="in_progress"' in editor and 'name="state-0-name_sv"' in editor
    states = [{"code": "new", "name": "Ny", "category": "new", "deadline_days": "2", "name_sv": "Ny"},
              {"code": "in_progress", "name": "Under behandling", "category": "in_progress"},
              {"code": "closed", "name": "Ferdig", "category": "closed"},
              {"code": "lost", "name": "Bortkommen", "category": "closed"}]
    moves = [{"code": "start", "label": "Start", "from_state": "new", "to_state": "in_progress"},
             {"code": "close", "label": "Avslutt", "from_state": "in_progress", "to_state": "closed",
              "roles": ["admin", "case_handler"]},
             {"code": "lose", "label": "Mistet", "from_state": "in_progress", "to_state": "nowhere"}]
    wrong = client.post(reverse("case_type_process", args=[ctype.pk]),
                        _rows("state", states, 3) | _rows("move", moves, 2))
    assert wrong.status_code == 422 and "Mistet" in wrong.content.decode()  # the unknown state is named
    ctype.refresh_from_db()
    assert ctype.process.version == 1
    moves[2]["to_state"] = "lost"
    client.post(reverse("case_type_process", args=[ctype.pk]), _rows("state", states, 3) | _rows("move", moves, 2))
    ctype.refresh_from_db()
    case.refresh_from_db()
    assert ctype.process.version == 2 and case.process.version == 1
    process = ctype.process
    assert [s.code for s in process.states.all()] == ["new", "in_progress", "closed", "lost"]
    assert process.states.get(code="new").translations == {"sv": "Ny"}
    assert process.transitions.get(code="close").roles == ["admin", "case_handler"]
    states[3]["DELETE"] = "on"
    moves[2]["DELETE"] = "on"
    client.post(reverse("case_type_process", args=[ctype.pk]), _rows("state", states, 4) | _rows("move", moves, 3))
    ctype.refresh_from_db()
    assert ctype.process.version == 3 and not ctype.process.states.filter(code="lost").exists()


def test_the_process_map_shows_how_the_cases_really_moved(client, world):
    from tillit.cases import services

    ctype = factories.case_type(world.a.branch, name="Flow")
    taken = [factories.case(world.a, case_type=ctype) for _i in range(3)]
    for case in taken:
        services.transition_case(case, "start", actor=world.admin)
    services.transition_case(taken[0], "wait", actor=world.admin)
    services.transition_case(taken[0], "resume", actor=world.admin)
    services.transition_case(taken[0], "close", actor=world.admin)
    services.transition_case(taken[0], "reopen", actor=world.admin)
    hidden = factories.case(world.b, case_type=ctype, unit=world.b.branch)
    services.transition_case(hidden, "start", actor=world.admin)
    client.force_login(world.admin)
    page = client.get(reverse("case_type", args=[ctype.pk])).content.decode()
    counts = dict(re.findall(r'data-move="(\w+)".*?<td class="num" data-count>(\d+)</td>', page))
    assert counts == {"start": "4", "wait": "1", "resume": "1", "close": "1", "reopen": "1"}
    assert "<svg" in page and "1 case went back" in page
    regional = factories.user()
    grant_access(regional, "admin", "org", world.a.region, actor=None, channel="system")
    client.force_login(regional)
    page = client.get(reverse("case_type", args=[ctype.pk])).content.decode()
    counts = dict(re.findall(r'data-move="(\w+)".*?<td class="num" data-count>(\d+)</td>', page))
    assert counts["start"] == "3"  # only the cases the reader may see are counted


def test_tags_are_set_on_the_case_page(client, world):
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    client.post(reverse("case_tags", args=[case.pk]), {"tags": "lønn, overtid, lønn", "version": case.version})
    case.refresh_from_db()
    assert case.tags == ["lønn", "overtid"]
    assert 'value="lønn, overtid"' in client.get(reverse("case", args=[case.pk])).content.decode()


def test_a_message_that_cannot_go_out_keeps_its_text(client, world):
    from tillit.registry.services import update_person

    case = factories.case(world.a)
    update_person(world.a.members[1][0], {"email": ""}, actor=world.admin)
    client.force_login(world.a.staff)
    page = client.post(reverse("case_message", args=[case.pk]), {"subject": "Svar", "body": "Lang tekst om lønn"},
                       follow=True)
    body = page.content.decode()
    assert "no email address" in body and ">Lang tekst om lønn</textarea>" in body


def test_a_related_case_is_linked_by_its_number_within_scope(client, world):
    case, other = factories.case(world.a), factories.case(world.a, title="Second matter")
    theirs = factories.case(world.b)
    client.force_login(world.a.staff)
    page = client.post(reverse("case_link", args=[case.pk]), {"number": other.number}, follow=True).content.decode()
    assert f"{other.number} is now related." in page
    assert list(case.related.all()) == [other] and list(other.related.all()) == [case]
    assert other.events.filter(kind="link", data__number=case.number).exists()
    again = client.post(reverse("case_link", args=[case.pk]), {"number": other.number}, follow=True)
    assert "already related" in again.content.decode()
    refused = client.post(reverse("case_link", args=[case.pk]), {"number": theirs.number}, follow=True)
    assert f"No case {theirs.number} that you may change." in refused.content.decode()
    assert not theirs.related.exists() and not theirs.events.filter(kind="link").exists()


def test_a_case_is_assigned_to_a_colleague_who_works_on_the_unit_only(client, world):
    from tillit.core.services import grant_access

    case = factories.case(world.a)
    colleague = factories.user("colleague_alfa")
    grant_access(colleague, "case_handler", "org", world.a.region, actor=None, channel="system")
    client.force_login(world.a.staff)
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    offered = page[page.index('<select name="to"'):].split("</select>")[0]
    assert f'<option value="{colleague.pk}">colleague_alfa</option>' in offered
    assert world.b.staff.username not in offered and world.a.rep.username not in offered  # no rep, no B
    client.post(reverse("case_assign", args=[case.pk]), {"to": colleague.pk, "version": case.version})
    case.refresh_from_db()
    assert case.handler == colleague
    # Someone of the other side, or a rep, is refused by page and service alike.
    for outsider in (world.b.staff, world.a.rep):
        response = client.post(reverse("case_assign", args=[case.pk]), {"to": outsider.pk, "version": case.version},
                               follow=True)
        assert b"Choose a colleague" in response.content
        case.refresh_from_db()
        assert case.handler == colleague


def test_priority_and_deadline_change_on_the_case_page_with_a_reason(client, world):
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    no_reason = client.post(reverse("case_edit", args=[case.pk]), {
        "priority": Case.Priority.HIGH, "due_on": "2030-01-31", "due_reason": "", "version": case.version}, follow=True)
    assert b"Say why the deadline changes" in no_reason.content
    case.refresh_from_db()
    assert case.priority != Case.Priority.HIGH and str(case.due_on) != "2030-01-31"  # nothing half-saved
    client.post(reverse("case_edit", args=[case.pk]), {
        "priority": Case.Priority.HIGH, "due_on": "2030-01-31", "due_reason": "waiting for the employer",
        "version": case.version})
    case.refresh_from_db()
    assert case.priority == Case.Priority.HIGH and str(case.due_on) == "2030-01-31"
    assert case.events.filter(kind="deadline", body="waiting for the employer").exists()
    bad = client.post(reverse("case_edit", args=[case.pk]), {"due_on": "31.01.2030", "version": case.version},
                      follow=True)
    assert b"YYYY-MM-DD" in bad.content


def test_the_queue_shows_whom_each_case_is_about_and_logs_it(client, world):
    from tillit.core.models import AccessLogEntry

    person = world.a.members[2][0]
    case = factories.case(world.a, subjects=[person])
    client.force_login(world.a.staff)
    page = client.get(reverse("cases")).content.decode()
    row = page[page.index(f'value="{case.pk}" form="bulk"'):].split("</tr>")[0]
    assert f"{person.first_name} {person.last_name}" in row
    assert AccessLogEntry.objects.filter(user=world.a.staff, action="case.list", person_id=person.pk).exists()


def test_a_case_is_closed_with_its_outcome_and_reopening_clears_it(client, world):
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    client.post(reverse("case_transition", args=[case.pk]), {"transition": "start", "version": case.version})
    case.refresh_from_db()
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'data-confirm="Close case' in page and '<select name="outcome" required' in page
    wrong = client.post(reverse("case_transition", args=[case.pk]), {
        "transition": "close", "outcome": "won-the-lottery", "version": case.version}, follow=True)
    assert b"Choose how the case ended" in wrong.content
    case.refresh_from_db()
    assert case.closed_at is None
    client.post(reverse("case_transition", args=[case.pk]), {
        "transition": "close", "outcome": "withdrawn", "version": case.version})
    case.refresh_from_db()
    assert case.closed_at and case.outcome == "withdrawn"
    assert case.events.filter(kind="state").latest("pk").data["outcome"] == "withdrawn"
    client.force_login(world.admin)  # reopening is the administrator's in this process
    client.post(reverse("case_transition", args=[case.pk]), {"transition": "reopen", "version": case.version})
    case.refresh_from_db()
    assert case.closed_at is None and case.outcome == ""


def test_the_person_a_case_is_about_is_added_and_removed_within_the_register(client, world):
    from tillit.core.models import AuditEntry

    case = factories.case(world.a, subjects=[])
    person, membership = world.a.members[2]
    client.force_login(world.a.staff)
    client.post(reverse("case_subjects", args=[case.pk]), {"person": membership.member_number,
                                                             "version": case.version})
    case.refresh_from_db()
    assert list(case.subjects.all()) == [person]
    assert case.events.filter(kind="subjects").exists()
    assert AuditEntry.objects.filter(action="cases.case.subjects_changed", object_id=case.pk).exists()
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert person.full_name in page and 'name="remove"' in page
    # Someone of the other side is not found, and nothing changes.
    other_number = world.b.members[0][1].member_number
    refused = client.post(reverse("case_subjects", args=[case.pk]), {"person": other_number,
                                                                       "version": case.version}, follow=True)
    assert b"No one in your part of the register" in refused.content
    assert list(case.subjects.all()) == [person]
    client.post(reverse("case_subjects", args=[case.pk]), {"remove": person.pk, "version": case.version})
    assert not case.subjects.exists()
    # The service itself refuses a person the actor cannot see.
    from tillit.cases import services
    from tillit.core.errors import InvalidInput

    case.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.set_subjects(case, [world.b.members[0][0]], actor=world.a.staff)


def test_an_intake_case_becomes_a_case_of_another_type_the_handler_may_open(client, world):
    from tillit.cases import services
    from tillit.core.models import AuditEntry
    from tillit.core.policy import Refused

    intake = factories.case_type(world.a.branch, name="Innkommende e-post")
    wage = factories.case_type(world.a.branch, name="Lønnskrav")
    elsewhere = factories.case_type(world.b.branch, name="Sweden's own")
    elsewhere.countries = ["SE"]  # offered only in Swedish units; A's are Norwegian
    elsewhere.save(update_fields=["countries"])
    case = factories.case(world.a, case_type=intake)
    client.force_login(world.a.staff)
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    offered = page[page.index('name="case_type"'):].split("</select>")[0]
    assert "Lønnskrav" in offered and "Innkommende" not in offered
    client.post(reverse("case_reclassify", args=[case.pk]), {"case_type": wage.pk, "reason": "a wage claim",
                                                               "version": case.version})
    case.refresh_from_db()
    assert case.case_type == wage and case.process.case_type == wage and case.state.code == "new"
    event = case.events.get(kind="case_type")
    assert event.body == "a wage claim" and event.data["from_name"] == "Innkommende e-post"
    assert AuditEntry.objects.filter(action="cases.case.reclassified", object_id=case.pk).exists()
    # A type the handler cannot open in this unit is refused by the service.
    with pytest.raises(Refused):
        services.reclassify(case, elsewhere, actor=world.a.staff)
    case.refresh_from_db()
    assert case.case_type == wage
