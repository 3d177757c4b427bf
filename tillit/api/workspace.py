"""The one search and the user's notifications: the same domain functions as the staff pages."""

from typing import Literal

from django.db.models import Q
from ninja import Router, Schema

from tillit.api.types import PageSize, Query
from tillit.cases.models import Case
from tillit.core.models import Notification
from tillit.registry.listing import log_people_shown
from tillit.workspace.search import KINDS, search_all

router = Router(tags=["workspace"])
Kind = Literal["people", "cases", "documents", "employers", "units"]


class HitOut(Schema):
    kind: str
    id: int
    title: str
    url: str
    detail: str


class GroupOut(Schema):
    kind: str
    label: str
    hits: list[HitOut]


@router.get("/search", response=list[GroupOut])
def search(request, q: Query = "", kind: Kind | None = None, size: PageSize = 8):
    """Everything the token's user may open that matches `q`, grouped by kind, best first within each kind;
    `kind` asks for one kind only. People shown are in the access log."""
    results = search_all(request.user, q, kinds=[kind] if kind else None, limit=size)
    if results.get("people"):
        log_people_shown(request.user, results["people"], channel="api", filters={"q": q})
    return [{"kind": k, "label": str(KINDS[k]),
             "hits": [{"kind": h.kind, "id": h.pk, "title": h.title, "url": h.url, "detail": h.detail} for h in hits]}
            for k, hits in results.items()]


class NotificationOut(Schema):
    id: int
    kind: str
    case_id: int | None
    case_number: str | None
    created_at: str
    read: bool


@router.get("/notifications", response=list[NotificationOut])
def notifications(request, unread: bool = False):
    """The newest 100 notifications of the token's user; a case they can no longer open is not named."""
    items = Notification.objects.filter(user=request.user).order_by("-created_at", "-pk")
    if unread:
        items = items.filter(read_at__isnull=True)
    items = list(items[:100])
    numbers = dict(Case.objects.visible_to(request.user).filter(
        Q(pk__in=[n.object_id for n in items if n.object_type == "case"])).values_list("pk", "number"))
    return [{"id": n.pk, "kind": n.kind, "case_id": n.object_id if n.object_id in numbers else None,
             "case_number": numbers.get(n.object_id), "created_at": n.created_at.isoformat(),
             "read": n.read_at is not None} for n in items]
