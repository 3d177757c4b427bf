"""The kept KPI figures equal a live count, for random histories, random nodes and random days."""

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tillit.dues.models import DuesAccount, LedgerEntry
from tillit.registry.models import (
    Employer,
    Employment,
    LeavePeriod,
    Membership,
    MembershipPeriod,
    MembershipType,
    OrgUnit,
    Person,
)
from tillit.reps import kpis

pytestmark = pytest.mark.django_db
START = datetime.date(2025, 1, 1)
days = st.integers(0, 900).map(lambda n: START + datetime.timedelta(days=n))
span = st.tuples(days, st.one_of(st.none(), st.integers(0, 400)))
person = st.fixed_dictionaries({
    "joined": days, "ends_after": st.one_of(st.none(), st.integers(0, 500)), "notice": st.booleans(),
    "exempt": st.one_of(st.none(), st.tuples(st.integers(0, 300), st.one_of(st.none(), st.integers(1, 200)))),
    "jobs": st.lists(st.tuples(st.integers(0, 3), span, st.one_of(st.none(), span)), max_size=2),
    "branch": st.integers(0, 1), "owing": st.one_of(st.none(), days)})


def _plus(day, n):
    return None if n is None else day + datetime.timedelta(days=n)


def _build(world, people):
    mtype = MembershipType.objects.get(code="ordinary")
    places = [world.a.workplace, world.b.workplace]
    extra = Employer.objects.filter(kind="workplace").exclude(pk__in=[p.pk for p in places]).order_by("pk")
    places += list(extra[:2]) or places
    branches = [world.a.branch, world.b.branch]
    for i, p in enumerate(people):
        who = Person.objects.create(first_name=f"K{i}", last_name="Kpi", search_name=f"k{i} kpi")
        ends = _plus(p["joined"], p["ends_after"])
        m = Membership.objects.create(person=who, membership_type=mtype, branch=branches[p["branch"]],
                                      member_number=f"K{i:05d}", joined_on=p["joined"], ends_on=ends,
                                      notice_on=p["joined"] if p["notice"] and ends else None)
        if p["exempt"]:
            start = p["joined"] + datetime.timedelta(days=p["exempt"][0])
            MembershipPeriod.objects.create(membership=m, status="active", valid_from=p["joined"], valid_to=start)
            MembershipPeriod.objects.create(membership=m, status="exempt", valid_from=start,
                                            valid_to=_plus(start, p["exempt"][1]), reason="sick")
        for place, (starts, length), leave in p["jobs"]:
            job = Employment.objects.create(person=who, workplace=places[place % len(places)], starts_on=starts,
                                            ends_on=_plus(starts, length))
            if leave:
                LeavePeriod.objects.create(employment=job, starts_on=leave[0], ends_on=_plus(leave[0], leave[1]))
        if p["owing"]:
            DuesAccount.objects.create(person=who, balance=100, uncovered_due_on=p["owing"])
            LedgerEntry.objects.create(person=who, kind="charge", amount=100, method="invoice", source="run",
                                       due_on=p["owing"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(people=st.lists(person, min_size=1, max_size=12), when=st.lists(days, min_size=1, max_size=3))
def test_kept_figures_equal_a_live_count(world, people, when):
    with transaction.atomic():
        _build(world, people)
        kpis.recount(when)
        nodes = [("org", n) for n in OrgUnit.objects.all()] + [("employer", n) for n in Employer.objects.all()]
        for day in when:
            for tree, node in nodes:
                kept = kpis.kept(tree, node.pk, [day])[day]
                assert kept == kpis.live(tree, node, day), (tree, node.name, day)
        transaction.set_rollback(True)


def test_a_day_never_counted_is_not_shown_as_zero(world):
    day = datetime.date(2026, 3, 3)
    assert kpis.kept("org", world.a.region.pk, [day]) == {day: None}
    kpis.recount([day])
    assert kpis.kept("org", world.a.region.pk, [day])[day]["members"] == 3
    assert kpis.kept("org", world.b.branch.pk, [day])[day]["members"] == 3


def test_the_days_kept_cover_the_trend_and_the_comparisons():
    kept = kpis.days_to_keep(datetime.date(2027, 3, 31))
    assert datetime.date(2027, 2, 28) in kept and datetime.date(2026, 3, 31) in kept
    assert datetime.date(2027, 3, 31) in kept and datetime.date(2025, 3, 31) in kept and len(kept) == 25


def test_the_nightly_round_counts_today_and_what_was_never_counted(world):
    from django.utils import timezone

    from tillit.reps.models import KpiCount

    today = timezone.localdate()
    kpis.recount([today - datetime.timedelta(days=400)])
    first = kpis.recount(progress=None)
    assert KpiCount.objects.filter(day__in=kpis.days_to_keep(today)).count() == len(kpis.days_to_keep(today))
    counted_at = dict(KpiCount.objects.values_list("day", "counted_at"))
    second = kpis.recount()
    again = dict(KpiCount.objects.values_list("day", "counted_at"))
    assert [d for d in again if again[d] != counted_at[d]] == [today] and 0 < second < first
    everything = kpis.recount(every_day=True)
    assert everything == first


@pytest.mark.django_db(transaction=True)
def test_several_workers_counting_at_once_keep_one_row_per_node_and_day(world):
    """Each worker queues a recount when it starts, and several workers are a documented setup: on PostgreSQL two
    or more recounts at once ended in IntegrityError (one_kpi_row_per_node_and_day)."""
    import threading

    from django.db import connection

    from tillit.reps.kpis import KpiDay, recount

    day = [datetime.date.today()]
    barrier, errors = threading.Barrier(4), []

    def run():
        try:
            barrier.wait()
            recount(day)
        except Exception as exc:  # the test reports what went wrong in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    rows = list(KpiDay.objects.filter(day=day[0]).values_list("tree", "node_id"))
    assert rows and len(rows) == len(set(rows))
