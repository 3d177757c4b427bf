import datetime

import pytest

from tests import factories
from tillit.cases import services
from tillit.cases.deadlines import add_business_days
from tillit.cases.models import Case, CaseEvent
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_business_days_skip_weekends_and_each_countrys_holidays():
    # Wednesday 16 May 2029 + 1 business day: 17 May is Norway's constitution day, not Sweden's
    assert add_business_days(datetime.date(2029, 5, 16), 1, "NO") == datetime.date(2029, 5, 18)
    assert add_business_days(datetime.date(2029, 5, 16), 1, "SE") == datetime.date(2029, 5, 17)
    assert add_business_days(datetime.date(2026, 11, 20), 1) == datetime.date(2026, 11, 23)  # Fri → Mon
    assert add_business_days(datetime.date(2026, 11, 20), 5) == datetime.date(2026, 11, 27)


def test_case_numbers_run_per_year_and_are_never_reused(world):
    first = factories.case(world.a)
    second = factories.case(world.a, case_type=first.case_type)
    year = datetime.date.today().year
    assert first.number == f"{year}/00001" and second.number == f"{year}/00002"


def test_opening_starts_the_timeline_sets_deadlines_and_is_audited(world):
    case = factories.case(world.a)
    assert case.state.code == "new" and case.responsible_unit == world.a.branch
    assert case.due_on == add_business_days(datetime.date.today(), 15, "NO")
    assert case.state_due_on == add_business_days(datetime.date.today(), 2, "NO")
    assert [e.kind for e in case.events.all()] == ["opened"]
    assert AuditEntry.objects.filter(object_type="cases.case", object_id=case.pk, action="cases.case.opened").exists()


def test_a_case_walks_its_process_and_closing_sets_closed_at(world):
    case = factories.case(world.a)
    for code in ["start", "wait", "resume", "close"]:
        services.transition_case(case, code, actor=world.a.staff)
    case.refresh_from_db()
    assert case.state.code == "closed" and case.closed_at is not None
    assert [e.data.get("to") for e in case.events.filter(kind="state")] == ["open", "waiting", "open", "closed"]
    with pytest.raises(services.CaseError):
        services.transition_case(case, "start", actor=world.a.staff)


def test_a_transition_limited_to_a_role_is_refused_to_others(world):
    case = factories.case(world.a)
    for code in ["start", "close"]:
        services.transition_case(case, code, actor=world.a.staff)
    with pytest.raises(services.CaseError):
        services.transition_case(case, "reopen", actor=world.a.staff)
    services.transition_case(case, "reopen", actor=world.admin)
    case.refresh_from_db()
    assert case.closed_at is None


def test_transfer_keeps_the_timeline_and_moves_the_case_out_of_the_old_unit(world):
    case = factories.case(world.a)
    services.assign_case(case, world.a.staff, actor=world.a.staff)
    services.add_note(case, "Called the member", actor=world.a.staff)
    services.transfer_case(case, world.b.branch, actor=world.a.staff, reason="Belongs to Beta")
    case.refresh_from_db()
    assert case.responsible_unit == world.b.branch and case.handler is None
    assert not Case.objects.visible_to(world.a.staff).filter(pk=case.pk).exists()
    assert Case.objects.visible_to(world.b.staff).filter(pk=case.pk).exists()
    kinds = [e.kind for e in case.events.all()]
    assert kinds[:3] == ["opened", "assignment", "note"] and kinds.count("transfer") == 2
    public = case.events.filter(public=True, kind="transfer").get()
    assert world.b.branch.name in public.body and "Beta" not in public.data.get("reason", "")


def test_two_handlers_at_once_the_second_gets_a_conflict_and_nothing_is_lost(world):
    case = factories.case(world.a)
    seen_version = case.version
    mine = Case.objects.get(pk=case.pk)
    theirs = Case.objects.get(pk=case.pk)
    services.transition_case(mine, "start", actor=world.a.staff, expected_version=seen_version)
    with pytest.raises(ConflictError):
        services.transfer_case(theirs, world.b.branch, actor=world.admin, reason="x", expected_version=seen_version)
    services.add_note(theirs, "A note is never refused", actor=world.admin)
    case.refresh_from_db()
    assert case.state.code == "open" and case.responsible_unit == world.a.branch
    assert case.events.filter(kind="note").count() == 1


def test_the_timeline_is_append_only(world):
    case = factories.case(world.a)
    event = case.events.get()
    event.body = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert CaseEvent.objects.get(pk=event.pk).body == ""


def test_a_changed_process_leaves_open_cases_on_their_version(world):
    case = factories.case(world.a)
    services.define_process(case.case_type, states=[
        {"code": "received", "name": "Received", "category": "new"},
        {"code": "done", "name": "Done", "category": "closed"}],
        transitions=[{"code": "finish", "label": "Finish", "from": "received", "to": "done"}])
    newer = factories.case(world.a, case_type=case.case_type)
    case.refresh_from_db()
    assert case.process.version == 1 and newer.process.version == 2 and newer.state.code == "received"
    services.transition_case(case, "start", actor=world.a.staff)  # still the old process


def test_bad_input_names_the_field(world):
    ctype = factories.case_type(world.a.branch, required_fields=["subject"])
    with pytest.raises(InvalidInput) as caught:
        services.open_case(ctype, title=" ", actor=None)
    assert {"title", "subjects"} <= set(caught.value.field_errors)
    with pytest.raises(InvalidInput) as caught:
        services.define_process(ctype, states=[{"code": "a", "name": "A", "category": "new"}], transitions=[
            {"code": "x", "label": "X", "from": "a", "to": "nowhere"}])
    assert {"states", "transitions"} <= set(caught.value.field_errors)


def test_assigning_needs_a_handler_who_can_see_the_case(world):
    case = factories.case(world.a)
    with pytest.raises(DomainError) as refused:
        services.assign_case(case, world.b.staff, actor=world.a.staff)
    assert "handler" in refused.value.field_errors
    services.share_case(case, world.b.staff, actor=world.a.staff)
    services.assign_case(case, world.b.staff, actor=world.a.staff)
    assert Case.objects.visible_to(world.b.staff).filter(pk=case.pk).exists()


def test_the_text_indexes_triggers_survive_every_migration(db):
    """SQLite rebuilds a table to add a column, dropping its triggers: the migrations that do so make the text
    indexes' triggers again (a case's title must stay findable)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the triggers are SQLite's; PostgreSQL indexes the titles without them")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"cases_case_fts_insert", "cases_case_fts_update", "cases_case_fts_delete"} <= triggers, triggers
