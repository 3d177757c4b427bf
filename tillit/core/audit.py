"""Writing the audit trail and the access log. Called inside the service's transaction."""

import datetime
import decimal
import json

from django.utils import timezone

from tillit.core.models import AccessLogEntry, AuditEntry


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def diff(obj, values: dict) -> dict:
    """Apply `values` to `obj`; return {field: [old, new]} for the fields that changed."""
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
            setattr(obj, name, new)
    return changes


def snapshot(obj, fields) -> dict:
    """The creation record: {field: [None, value]} for the given fields."""
    return {f: [None, _plain(getattr(obj, f))] for f in fields if getattr(obj, f) not in (None, "")}


def record(action: str, obj, *, actor, channel: str, changes: dict | None = None, person_id=None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        channel=channel,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        person_id=person_id,
        changes=changes or {},
    )


def log_access(user, action: str, *, channel: str, person_id=None, detail=None) -> None:
    """Record a view or export of personal data (callers skip a person's view of themselves)."""
    AccessLogEntry.objects.create(
        user=user if getattr(user, "pk", None) else None,
        channel=channel,
        action=action,
        person_id=person_id,
        detail=detail or {},
    )


def own_person_id(user) -> int | None:
    """The registry person who is `user` (kept for the request)."""
    from tillit.core.memo import per_request
    from tillit.registry.models import Person

    if not getattr(user, "pk", None):
        return None
    return per_request(("own-person", user.pk), lambda: Person.objects.filter(user_id=user.pk).values_list(
        "pk", flat=True).first())


def log_access_many(user, action: str, person_ids, *, channel: str, detail=None, own_left_out=False) -> int:
    """One access-log row per person shown to `user` (their own record excepted, unless the caller says it left it
    out already: `own_left_out`), in one INSERT."""
    own = None if own_left_out else own_person_id(user)
    ids = list(dict.fromkeys(pk for pk in person_ids if pk is not None and pk != own))
    if not ids:
        return 0
    # One multi-row INSERT in autocommit (or the caller's transaction): durable when the page is sent.
    from django.db import connection

    table = AccessLogEntry._meta.db_table
    now = timezone.now()
    at = now if connection.vendor == "postgresql" else now.isoformat(sep=" ").replace("+00:00", "")
    row = [at, getattr(user, "pk", None), channel, action, None, json.dumps(detail or {})]
    values, params = [], []
    for pk in ids:
        row[4] = pk
        values.append("(%s, %s, %s, %s, %s, %s)")
        params.extend(row)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ("at", "user_id", "channel", "action", "person_id", "detail") '
                       f"VALUES {', '.join(values)}", params)
    return len(ids)


def access_log_for(person_id: int, *, limit: int = 200):
    """Who saw the person's data, newest first: the access log as the data-protection officer reads it."""
    return AccessLogEntry.objects.filter(person_id=person_id).select_related("user").only(
        "at", "channel", "action", "person_id", "detail", "user__username")[:limit]


# --- the person page's history and access-log tables, as flat rows for the templates ---

def _side(pair, i: int):
    """One side of a change's [old, new] (an index, else nothing)."""
    try:
        return pair[i] if isinstance(pair, (list, tuple, str)) else pair.get(str(i), "")
    except (IndexError, AttributeError):
        return ""


def change_lines(changes) -> list[dict]:
    """{field, old, new} of each change, the national id never shown."""
    from django.utils.formats import localize

    lines = []
    for field, pair in (changes or {}).items():
        if field == "national_id":
            lines.append({"field": field, "hidden": True})
            continue
        old, new = (("–" if v is None else localize(v)) for v in (_side(pair, 0), _side(pair, 1)))
        lines.append({"field": field, "old": old, "new": new})
    return lines


def history_rows(entries) -> list[dict]:
    """The rows of a change history (entries with their actor)."""
    return [{"at": a.at, "who": (a.actor.username if a.actor_id else "") or "system",
             "channel": a.get_channel_display(), "action": a.action, "changes": change_lines(a.changes)}
            for a in entries]


def looked_rows(entries) -> list[dict]:
    """The rows of the access log's table of who looked (entries with their user)."""
    return [{"at": e.at, "who": (e.user.username if e.user_id else "") or "system",
             "channel": e.get_channel_display(), "action": e.action_label} for e in entries]
