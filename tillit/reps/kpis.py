"""The reps' KPIs: one rule per figure, counted live (the lists behind the numbers) and kept per node and day.

A node is an employer node (group, company, workplace: the members employed under it on the day) or an org
unit (the members whose branch lies under it). The live rule is a Membership queryset per figure; the kept
figures come from `recount`, a second, independent count that streams every membership once and adds it to
each node above it. tests/reps/test_kpis.py builds random histories and checks the two agree.
"""

import calendar
import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from tillit.core.services import hold
from tillit.dues.ledger import own_arrears_sum
from tillit.registry.models import (
    Employer,
    Employment,
    LeavePeriod,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    OrgUnit,
)
from tillit.reps.models import KpiCount, KpiDay

KPIS = [("members", _("Members")), ("in_work", _("In work now")), ("exempt", _("Dues-exempt")),
        ("resigning_this_month", _("Resigning this month")), ("resigning_next_month", _("Resigning next month")),
        ("outstanding", _("With outstanding dues")), ("new_this_month", _("New this month"))]
KPI_NAMES = [k for k, _label in KPIS]


def month_range(day: datetime.date, offset: int = 0) -> tuple[datetime.date, datetime.date]:
    index = day.year * 12 + day.month - 1 + offset
    first = datetime.date(index // 12, index % 12 + 1, 1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def owing(memberships, day: datetime.date):
    """The memberships whose member owes dues of their own on the day (dues.ledger.own_arrears_sum); only those
    with a charge uncovered since before the day can, so the kept account narrows the sum to them."""
    return (memberships.filter(person__dues_account__uncovered_due_on__lt=day)
            .annotate(owed=own_arrears_sum(day)).filter(owed__gt=0))


def members(tree: str, node, day: datetime.date, kpi: str = "members"):
    """The memberships behind one figure for the node on the day (the list a KPI links to)."""
    # The subtree's node ids first (a prefix scan of a small table), then the memberships by them.
    if tree == "org":
        base = Membership.objects.member_on(day).filter(branch_id__in=OrgUnit.objects.filter(
            path__startswith=node.path).values("pk"))
        jobs = Employment.objects.current_on(day).filter(person_id=OuterRef("person_id"))
    else:
        here = Employment.objects.current_on(day).filter(workplace_id__in=Employer.objects.filter(
            path__startswith=node.path).values("pk"))
        jobs = here.filter(person_id=OuterRef("person_id"))
        base = Membership.objects.member_on(day).filter(person_id__in=here.values("person_id"))
    if kpi == "members":
        return base
    if kpi == "in_work":
        on_leave = LeavePeriod.objects.current_on(day).filter(employment_id=OuterRef("pk"))
        return base.filter(Exists(jobs.filter(~Exists(on_leave))))
    if kpi == "exempt":
        return base.filter(Exists(MembershipPeriod.objects.covering(day).filter(
            membership_id=OuterRef("pk"), status=MembershipStatus.EXEMPT)))
    if kpi in ("resigning_this_month", "resigning_next_month"):
        first, last = month_range(day, 0 if kpi == "resigning_this_month" else 1)
        return base.filter(notice_on__isnull=False, ends_on__gte=first, ends_on__lte=last)
    if kpi == "new_this_month":
        return base.filter(joined_on__gte=month_range(day)[0])
    if kpi == "outstanding":
        return owing(base, day)
    raise ValueError(kpi)


def live(tree: str, node, day: datetime.date) -> dict[str, int]:
    return {kpi: members(tree, node, day, kpi).count() for kpi in KPI_NAMES}


# --- kept figures ------------------------------------------------------------------------------------

CHUNK = 5000


def _prefixes(path: str, steplen: int):
    return [path[:end] for end in range(steplen, len(path) + 1, steplen)]


def count_day(day: datetime.date, *, progress=None) -> dict[tuple[str, str], dict[str, int]]:
    """Every node's figures on the day: {(tree, path): {kpi: n}}, streaming the memberships in chunks."""
    this_first, this_last = month_range(day)
    next_first, next_last = month_range(day, 1)
    branch_paths = dict(OrgUnit.objects.values_list("pk", "path"))
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KPI_NAMES, 0))
    org_step, emp_step = OrgUnit.steplen, Employer.steplen
    cursor, done = 0, 0
    in_force = Membership.objects.member_on(day)
    while True:
        batch = list(in_force.filter(pk__gt=cursor).order_by("pk").values_list(
            "pk", "person_id", "branch_id", "joined_on", "notice_on", "ends_on")[:CHUNK])
        if not batch:
            break
        cursor = batch[-1][0]
        ids, people = [m[0] for m in batch], [m[1] for m in batch]
        exempt = set(MembershipPeriod.objects.covering(day).filter(
            membership_id__in=ids, status=MembershipStatus.EXEMPT).values_list("membership_id", flat=True))
        jobs = defaultdict(list)
        for pk, person_id, path in Employment.objects.current_on(day).filter(person_id__in=people).values_list(
                "pk", "person_id", "workplace__path"):
            jobs[person_id].append((pk, path))
        leave = set(LeavePeriod.objects.current_on(day).filter(
            employment_id__in=[j for js in jobs.values() for j, _p in js]).values_list("employment_id", flat=True))
        owe = set(owing(Membership.objects.filter(pk__in=ids), day).values_list("pk", flat=True))
        for pk, person_id, branch_id, joined_on, notice_on, ends_on in batch:
            flags = {"members": True, "exempt": pk in exempt, "outstanding": pk in owe,
                     "new_this_month": joined_on >= this_first,
                     "resigning_this_month": bool(notice_on and ends_on and this_first <= ends_on <= this_last),
                     "resigning_next_month": bool(notice_on and ends_on and next_first <= ends_on <= next_last)}
            person_jobs = jobs.get(person_id, [])
            working_anywhere = any(j not in leave for j, _p in person_jobs)
            for path in _prefixes(branch_paths[branch_id], org_step):
                row = counts[("org", path)]
                for kpi, on in flags.items():
                    row[kpi] += on
                row["in_work"] += working_anywhere
            # employer nodes: each node above any of the person's workplaces, once, in work if a job under it is
            above: dict[str, bool] = {}
            for job, path in person_jobs:
                for prefix in _prefixes(path, emp_step):
                    above[prefix] = above.get(prefix, False) or job not in leave
            for prefix, working in above.items():
                row = counts[("employer", prefix)]
                for kpi, on in flags.items():
                    row[kpi] += on
                row["in_work"] += working
        done += len(batch)
        if progress:
            progress(done)
    return counts


def days_to_keep(today: datetime.date) -> list[datetime.date]:
    """Today, the same day one and twelve months ago, and the last day of each of the 24 months before."""
    def same_day(months):
        first, last = month_range(today, -months)
        return first.replace(day=min(today.day, last.day))

    ends = [month_range(today, -i)[1] for i in range(1, 25)]
    return sorted({today, same_day(1), same_day(12), *ends})


def recount(days: list[datetime.date] | None = None, *, progress=None, every_day: bool = False) -> int:
    """Count and keep every node's figures for the days; each day replaces what was kept for it, in one
    transaction. By default: today, and the days of `days_to_keep(today)` not counted yet (the nightly round);
    with `every_day` all of them again (after history was changed back in time, or an import). Returns the
    rows kept."""
    today = timezone.localdate()
    if days is None:
        wanted = days_to_keep(today)
        counted = set() if every_day else set(KpiCount.objects.filter(day__in=wanted).values_list("day", flat=True))
        days = [d for d in wanted if d == today or d not in counted]
    nodes = {("org", path): pk for pk, path in OrgUnit.objects.values_list("pk", "path")}
    nodes.update({("employer", path): pk for pk, path in Employer.objects.values_list("pk", "path")})
    kept = 0
    for i, day in enumerate(days, 1):
        counts = count_day(day)
        rows = [KpiDay(tree=tree, node_id=nodes[(tree, path)], day=day, **figures)
                for (tree, path), figures in counts.items() if (tree, path) in nodes]
        with transaction.atomic():
            hold(f"reps.kpis.{day.isoformat()}")  # several workers may count at once: one day, one writer
            KpiDay.objects.filter(day=day).delete()
            KpiDay.objects.bulk_create(rows, batch_size=2000)
            KpiCount.objects.update_or_create(day=day, defaults={"counted_at": timezone.now()})
        kept += len(rows)
        if progress:
            progress(i, len(days))
    return kept


def latest_count(today: datetime.date) -> KpiCount | None:
    """The last day counted up to `today`: lists that read kept figures use it until today's count has run."""
    return KpiCount.objects.filter(day__lte=today).order_by("-day").first()


def workplace_members(workplace_ids, today: datetime.date) -> tuple[dict[int, int], KpiCount | None]:
    """Members per workplace: from the last count (and which it was), or, where nothing was ever counted, counted
    now in one grouped query."""
    last = latest_count(today)
    if last is not None:
        return dict(KpiDay.objects.filter(tree="employer", day=last.day, node_id__in=workplace_ids)
                    .values_list("node_id", "members")), last
    rows = (Employment.objects.current_on(today).filter(workplace_id__in=workplace_ids, person_id__in=Membership
                                                        .objects.member_on(today).values("person_id"))
            .values("workplace_id").annotate(n=Count("person_id", distinct=True)).values_list("workplace_id", "n"))
    return dict(rows), None


def kept(tree: str, node_id: int, days: list[datetime.date]) -> dict[datetime.date, dict[str, int] | None]:
    """The kept figures of a node on each day: a node with no row on a counted day has none (zeros); a day
    never counted is None."""
    counted = set(KpiCount.objects.filter(day__in=days).values_list("day", flat=True))
    rows = {r.day: {k: getattr(r, k) for k in KPI_NAMES} for r in KpiDay.objects.filter(
        tree=tree, node_id=node_id, day__in=days)}
    return {d: rows.get(d, dict.fromkeys(KPI_NAMES, 0)) if d in counted else None for d in days}


@task()
def recount_round() -> int:
    """The nightly count (the worker queues it once a day, and at its start)."""
    return recount()
