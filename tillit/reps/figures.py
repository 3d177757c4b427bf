"""What the portal's pages and the API show for a node: the dashboard's figures and the rows of a member list."""

from tillit.core.present import capped_count
from tillit.dues.invoices import kroner
from tillit.dues.ledger import own_arrears
from tillit.registry.models import Employment
from tillit.reps import kpis


def figures(node, today):
    """Today's, a month's and a year's figures (kept, or counted live if today has not been counted yet), and
    the 24 month-ends of the trend."""
    days = kpis.days_to_keep(today)
    kept = kpis.kept(node.tree, node.obj.pk, days)
    live = kept[today] is None
    if live:
        kept[today] = kpis.live(node.tree, node.obj, today)
    first, _last = kpis.month_range(today, -1)
    month_ago = max(d for d in days if d <= first.replace(day=min(today.day, _last.day)))
    year_first, year_last = kpis.month_range(today, -12)
    year_ago = year_first.replace(day=min(today.day, year_last.day))
    trend = [kpis.month_range(today, -i)[1] for i in range(24, 0, -1)]
    return kept, live, month_ago, year_ago, trend


def describe(memberships, today):
    jobs = {}
    for person_id, workplace, position in Employment.objects.current_on(today).filter(
            person_id__in=[m.person_id for m in memberships]).order_by("starts_on").values_list(
            "person_id", "workplace__name", "position"):
        jobs[person_id] = (workplace, position)
    owed = own_arrears([m.person_id for m in memberships], today)
    out = []
    for m in memberships:
        workplace, position = jobs.get(m.person_id, ("", ""))
        out.append({"person_id": m.person_id, "name": f"{m.person.last_name}, {m.person.first_name}",
                    "member_number": m.member_number, "workplace": workplace, "position": position,
                    "email": m.person.email, "phone": m.person.phone, "status": m.get_status_display(),
                    "owed": kroner(owed[m.person_id]) if m.person_id in owed else ""})
    return out


def list_total(node, filters: dict, found, today) -> tuple[int, bool, object]:
    """The total of a member list: (number, whether exact, the count it comes from). A list that is exactly one
    of the node's figures (no filter beside the figure) takes today's kept figure, as the dashboard shows it,
    instead of counting every membership of a region again; any other list a capped count (core.present)."""
    if set(filters) <= {"kpi", "sort"}:
        last = kpis.latest_count(today)
        if last is not None and last.day == today:
            kept = kpis.kept(node.tree, node.obj.pk, [today])[today]
            if kept is not None:
                return kept[filters["kpi"]], True, last
    number, more = capped_count(found)
    return number, not more, None
