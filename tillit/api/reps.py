"""The reps' portal in the API: the rep's nodes, the dashboard figures and the member list behind each figure,
with the same node rule, scope and access log as the pages."""

import datetime
from typing import Literal

from django.utils import timezone
from ninja import Router, Schema

from tillit.api.registry import Message, Page
from tillit.api.types import PageNumber, PageSize
from tillit.core import audit
from tillit.registry.models import Person
from tillit.reps import kpis
from tillit.reps.access import node_for, rep_nodes
from tillit.reps.figures import describe, figures

router = Router(tags=["reps"])
Kpi = Literal["members", "in_work", "exempt", "resigning_this_month", "resigning_next_month", "outstanding",
              "new_this_month"]
NodeKey = str


class NodeOut(Schema):
    key: str
    tree: str
    id: int
    name: str


@router.get("/reps/nodes", response=list[NodeOut])
def nodes(request):
    """The nodes the caller's rep grants cover (empty for anyone who is not a rep)."""
    return [{"key": n.key, "tree": n.tree, "id": n.obj.pk, "name": n.name} for n in rep_nodes(request.user)]


class FiguresOut(Schema):
    node: NodeOut
    day: datetime.date
    counted_live: bool
    today: dict[str, int]
    month_ago: dict[str, int] | None
    year_ago: dict[str, int] | None
    trend: list[tuple[datetime.date, int | None]]


@router.get("/reps/dashboard", response={200: FiguresOut, 404: Message})
def dashboard(request, node: NodeKey = ""):
    """Today's figures for a node (`org-3`, `employer-12`; the first of the caller's nodes by default), the same
    day a month and a year ago (null where never counted), and the members at each of the last 24 month-ends."""
    found = node_for(request.user, node or None)
    today = timezone.localdate()
    kept, live, month_ago, year_ago, trend = figures(found, today)
    return {"node": {"key": found.key, "tree": found.tree, "id": found.obj.pk, "name": found.name}, "day": today,
            "counted_live": live, "today": kept[today], "month_ago": kept.get(month_ago),
            "year_ago": kept.get(year_ago),
            "trend": [(d, kept[d]["members"] if kept.get(d) else None) for d in trend]}


class MemberOut(Schema):
    person_id: int
    name: str
    member_number: str
    workplace: str
    position: str
    email: str
    phone: str
    status: str


class MemberPage(Page):
    total: int
    items: list[MemberOut]


@router.get("/reps/members", response={200: MemberPage, 404: Message})
def members(request, node: NodeKey = "", kpi: Kpi = "members", page: PageNumber = 1, size: PageSize = 50):
    """The members behind one figure of the dashboard, by exactly the rule that counts it."""
    found_node = node_for(request.user, node or None)
    today = timezone.localdate()
    found = kpis.members(found_node.tree, found_node.obj, today, kpi).filter(
        person__in=Person.objects.visible_to(request.user).values("pk")).select_related("person").order_by(
        "person__last_name", "person__first_name", "pk")
    chunk = list(found[(page - 1) * size:page * size + 1])
    rows = describe(chunk[:size], today)
    audit.log_access_many(request.user, "reps.members.listed", [r["person_id"] for r in rows], channel="api",
                          detail={"node": found_node.key, "kpi": kpi})
    return {"page": page, "has_next": len(chunk) > size, "total": found.count(), "items": rows}
