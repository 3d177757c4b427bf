import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tillit.cases import services
from tillit.cases.measure import measure

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 10, 5)


def at(day_offset, hour=9):
    day = MONDAY + datetime.timedelta(days=day_offset)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def test_the_flow_figures_follow_what_happened(world):
    ctype = factories.case_type(world.a.branch)
    a = factories.case(world.a, case_type=ctype, now=at(0))
    b = factories.case(world.a, case_type=ctype, now=at(1))
    factories.case(world.a, case_type=ctype, now=at(8))  # still open, week two
    factories.case(world.b, case_type=ctype, unit=world.b.branch, now=at(1))  # another unit: never counted
    services.transition_case(a, "start", actor=world.a.staff, now=at(0, 12))  # first response after 3 hours
    services.transition_case(a, "close", actor=world.a.staff, now=at(2, 12))  # lead time 2 days 3 hours
    services.transition_case(b, "start", actor=world.a.staff, now=at(1, 15))  # 6 hours
    services.transition_case(b, "close", actor=world.a.staff, now=at(9, 9))  # lead time 8 days
    flow = measure(world.a.branch, MONDAY, MONDAY + datetime.timedelta(days=13), today=MONDAY)
    assert flow.weeks == [MONDAY, MONDAY + datetime.timedelta(days=7)]
    assert flow.opened == [2, 1] and flow.closed == [1, 1] and flow.backlog == [1, 1]
    assert flow.lead_time_median_days == round((2.125 + 8) / 2, 1)
    assert flow.first_response_median_hours == 4.5
    assert flow.days_per_state["New"] == round((0.125 + 0.25) / 2, 1)
    assert flow.open_now == 1


def test_the_measurement_page_draws_its_chart_for_the_users_units_only(client, world):
    factories.case(world.a)
    client.force_login(world.a.staff)
    response = client.get(reverse("case_measure"), {"unit": world.a.region.pk})
    body = response.content.decode()
    assert response.status_code == 200 and "<svg" in body and 'data-kpi="open">1<' in body
    assert body.count("<rect") >= 2 * 12 and "stroke-dasharray" in body  # a pair of bars a week, the backlog line
    other = client.get(reverse("case_measure"), {"unit": world.b.region.pk})
    assert other.context["unit"] != world.b.region  # falls back to the user's own unit
    bad = client.get(reverse("case_measure"), {"from": "yesterday"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()


def test_transfers_and_reopening_move_the_backlog_between_units(world):
    from tillit.cases.models import UnitDay

    ctype = factories.case_type(world.a.branch)
    today = timezone.localdate()
    case = factories.case(world.a, case_type=ctype)
    kept = factories.case(world.a, case_type=ctype)
    services.transfer_case(case, world.b.branch, actor=world.a.staff, reason="Belongs to Beta")
    week = today - datetime.timedelta(days=today.weekday())
    a = measure(world.a.branch, week, today, today=today)
    b = measure(world.b.branch, week, today, today=today)
    assert (a.opened, a.open_now, a.backlog) == ([2], 1, [1])
    assert (b.opened, b.open_now, b.backlog) == ([0], 1, [1])
    services.transition_case(kept, "start", actor=world.a.staff)
    services.transition_case(kept, "close", actor=world.a.staff)
    services.transition_case(kept, "reopen", actor=world.admin)
    a = measure(world.a.branch, week, today, today=today)
    assert (a.closed, a.open_now, a.backlog) == ([1], 1, [1])
    assert UnitDay.objects.get(unit=world.a.branch, day=today).reopened == 1


def test_a_recount_gives_the_figures_kept_as_cases_changed(world):
    from tillit.cases.daycounts import rebuild

    ctype = factories.case_type(world.a.branch)
    a = factories.case(world.a, case_type=ctype, now=at(0))
    factories.case(world.a, case_type=ctype, now=at(3))
    services.transition_case(a, "start", actor=world.a.staff, now=at(0, 12))
    services.transition_case(a, "close", actor=world.a.staff, now=at(9, 9))
    period = (MONDAY, MONDAY + datetime.timedelta(days=13))
    live = measure(world.a.branch, *period, today=MONDAY)
    rebuild()
    assert measure(world.a.branch, *period, today=MONDAY) == live
    assert live.days_per_state == {"In progress": round((9 * 24 - 3) / 24, 1), "New": 0.1}


def test_recount_cases_command_rebuilds_the_day_counts(world, capsys):
    from django.core.management import call_command

    from tillit.cases.models import UnitDay

    factories.case(world.a)
    UnitDay.objects.all().delete()  # as after a bulk load that bypassed the services
    call_command("recount_cases")
    assert "counted: time per state" in capsys.readouterr().out
    assert UnitDay.objects.get(unit=world.a.branch, day=timezone.localdate()).opened == 1
