"""The reps' portal in the API: the rep's nodes, the dashboard figures and the member list behind each figure,
with the same node rule, scope and access log as the pages."""

import datetime
from typing import Literal

from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from tillit.api.registry import Message, Page
from tillit.api.types import PageNumber, PageSize
from tillit.core import audit
from tillit.reps import coverage, declaration, lists, selection
from tillit.reps.access import node_for, rep_nodes
from tillit.reps.figures import describe, figures, list_total
from tillit.reps.models import Correction

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
    owed: str = Field(description="The member's own dues past due, in kroner as shown (empty: nothing owed)")


class MemberPage(Page):
    total: int = Field(description="The list's length: today's kept figure for a list that is one figure, else "
                                   "counted up to 1,000")
    total_is_exact: bool = Field(description="False when the count stopped at its cap (there are more)")
    items: list[MemberOut]


@router.get("/reps/members", response={200: MemberPage, 400: Message, 404: Message})
def members(request, node: NodeKey = "", kpi: Kpi = "members", workplace: str = "", status: str = "",
            membership_type: str = "", pct_min: str = "", pct_max: str = "", age: str = "", sort: str = "name",
            page: PageNumber = 1, size: PageSize = 50):
    """The members behind one figure of the dashboard, by exactly the rule that counts it, with the member list's
    filters (workplace name, status, membership type, employment percentage, age band `-29`…`60-`, sort)."""
    found_node = node_for(request.user, node or None)
    filters = selection.clean({"kpi": kpi, "workplace": workplace, "status": status, "membership_type":
                               membership_type, "pct_min": pct_min, "pct_max": pct_max, "age": age, "sort": sort})
    today = timezone.localdate()
    found = selection.select(request.user, found_node, filters, today)
    chunk = list(found[(page - 1) * size:page * size + 1])
    rows = describe(chunk[:size], today)
    audit.log_access_many(request.user, "reps.members.listed", [r["person_id"] for r in rows], channel="api",
                          detail=selection.as_query(filters, found_node.key))
    total, exact, _counted = list_total(found_node, filters, found, today)
    return {"page": page, "has_next": len(chunk) > size, "total": total, "total_is_exact": exact, "items": rows}


class WorkplaceCount(Schema):
    id: int
    name: str
    members: int


class LostRep(WorkplaceCount):
    ended: datetime.date
    held_by: str | None


class Gap(WorkplaceCount):
    entitled: int
    has: int
    gap: int


class TermOut(Schema):
    role_id: int
    person: str
    role_type: str
    workplace: str
    ends_on: datetime.date


class CoverageOut(Schema):
    node: NodeOut
    counted_on: datetime.date | None = Field(description="The day of the count the member figures come from (null: "
                                                          "never counted; counted at the request)")
    minimum: int
    lacking: list[WorkplaceCount]
    lost: list[LostRep]
    ending: list[TermOut]
    entitlement: list[Gap]


@router.get("/reps/coverage", response={200: CoverageOut, 404: Message})
def coverage_view(request, node: NodeKey = ""):
    """The coverage view: workplaces with enough members and no rep, those that lost their rep in the last year,
    terms ending in 60 days, and the reps each workplace may elect against those it has."""
    found_node = node_for(request.user, node or None)
    if not declaration.has_signed(request.user):
        raise Http404
    found = coverage.lists(request.user, found_node, limit=None)
    return {"node": _node(found_node), "counted_on": found["counted"].day if found["counted"] else None,
            "minimum": found["minimum"],
            "lacking": [{"id": r["e"].pk, "name": r["e"].name, "members": r["members"]} for r in found["lacking"]],
            "lost": [{"id": r["e"].pk, "name": r["e"].name, "members": r["members"], "ended": r["ended"],
                      "held_by": str(r["who"]) if r["who"] else None} for r in found["lost"]],
            "ending": [{"role_id": r.pk, "person": str(r.person), "role_type": str(r.role_type),
                        "workplace": r.employer.name if r.employer_id else "", "ends_on": r.ends_on}
                       for r in found["ending"]],
            "entitlement": [{"id": r["e"].pk, "name": r["e"].name, "members": r["members"],
                             "entitled": r["entitled"], "has": r["has"], "gap": r["gap"]}
                            for r in found["entitlement"]]}


class CorrectionOut(Schema):
    id: int
    person_id: int
    field: str
    new_value: str
    state: str
    reason: str
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None


@router.get("/reps/corrections", response=list[CorrectionOut])
def my_corrections(request):
    """The caller's own corrections that needed approval, with member service's outcome."""
    return [{"id": c.pk, "person_id": c.person_id, "field": c.field, "new_value": c.shown_value, "state": c.state,
             "reason": c.reason, "requested_at": c.requested_at, "decided_at": c.decided_at}
            for c in Correction.objects.filter(requested_by=request.user)[:500]]


def _node(found):
    return {"key": found.key, "tree": found.tree, "id": found.obj.pk, "name": found.name}


class RepOut(Schema):
    role_id: int
    person: str
    role_type: str
    node: str
    starts_on: datetime.date
    ends_on: datetime.date | None


def _role(r) -> dict:
    return {"role_id": r.pk, "person": f"{r.person.first_name} {r.person.last_name}", "role_type": str(r.role_type),
            "node": str(r.employer or r.org_unit), "starts_on": r.starts_on, "ends_on": r.ends_on}


class TreeRow(Schema):
    key: str
    name: str
    kind: str
    depth: int
    members: int | None
    in_work: int | None
    reps: list[RepOut]


class TreeOut(Schema):
    node: NodeOut
    counted_on: datetime.date | None = Field(description="The day of the count the figures come from (null: never "
                                                          "counted, and the figures are null)")
    rows: list[TreeRow]


@router.get("/reps/tree", response={200: TreeOut, 404: Message})
def tree(request, node: NodeKey = ""):
    """The company tree under the node (a region: its workplaces) with members, members in work and reps (null
    counts: never counted yet; otherwise as of `counted_on`)."""
    found = node_for(request.user, node or None)
    rows, counted = lists.tree(request.user, found, timezone.localdate())
    return {"node": _node(found), "counted_on": counted.day if counted else None, "rows": [
        {"key": r["key"], "name": r["e"].name, "kind": r["e"].kind, "depth": r["e"].depth, "members": r["members"],
         "in_work": r["in_work"], "reps": [_role(x) for x in r["reps"]]} for r in rows]}


class RepsOut(Schema):
    node: NodeOut
    reps: list[RepOut]
    own: list[RepOut]


@router.get("/reps/reps", response={200: RepsOut, 404: Message})
def other_reps(request, node: NodeKey = ""):
    """The other reps under the node (person, role type, node, term) and the caller's own roles."""
    found = node_for(request.user, node or None)
    if not declaration.has_signed(request.user):
        raise Http404
    roles, own = lists.other_reps(request.user, found, timezone.localdate())
    return {"node": _node(found), "reps": [_role(r) for r in roles], "own": [_role(r) for r in own]}


class RepNoticeLine(Schema):
    kind: str
    member_number: str
    name: str
    reason: str


class RepNotice(Schema):
    id: int
    payroll_unit: str
    period: datetime.date
    lines: list[RepNoticeLine]


@router.get("/reps/notices", response={200: list[RepNotice], 404: Message})
def rep_notices(request, node: NodeKey = ""):
    """Deduction notices of the last three months for the node's payroll offices, with the lines about members
    the caller may see (start, stop, change; no amounts or national ids)."""
    found = node_for(request.user, node or None)
    if not declaration.has_signed(request.user):
        raise Http404
    shown = lists.notices(request.user, found, timezone.localdate())
    audit.log_access(request.user, "reps.notices.viewed", channel="api", detail={"node": found.key})
    return [{"id": x["notice"].pk, "payroll_unit": x["notice"].payroll_unit.name, "period": x["notice"].period,
             "lines": [{k: line.get(k, "") for k in ("kind", "member_number", "name", "reason")}
                       for line in x["lines"]]} for x in shown]
