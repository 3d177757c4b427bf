"""Writing the audit trail and the access log. Called inside the service's transaction."""

import datetime
import decimal
import json

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.formats import localize
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

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


# What an audit code's last part says, in the reader's language ("registry.person.changed" reads "Person: changed").
VERBS = {
    "created": _("created"), "create": _("created"), "changed": _("changed"), "update": _("changed"),
    "anonymised": _("anonymised"), "merged": _("merged"), "merged_into": _("merged into another"),
    "review_dismissed": _("not a duplicate"), "user_linked": _("login linked"), "ended": _("ended"),
    "deleted": _("deleted"), "delete": _("deleted"), "saved": _("saved"), "translated": _("texts changed"),
    "published": _("published"), "status_changed": _("status changed"), "signed": _("signed"),
    "requested": _("requested"), "approved": _("approved"), "rejected": _("rejected"), "resolved": _("resolved"),
    "read": _("read"), "written": _("written"), "finished": _("finished"), "started": _("started"),
    "received": _("received"), "added": _("added"), "removed": _("removed"), "reset": _("reset"),
    "recovery_code_used": _("recovery code used"), "recovery_codes": _("new recovery codes"),
    "revoked": _("revoked"), "linked": _("linked"), "link": _("linked"), "unlinked": _("unlinked"),
    "unlink": _("unlinked"), "login_made": _("login made"), "email_changed": _("email address changed"),
    "password_changed": _("password changed"), "password_reset": _("password reset"), "unlocked": _("unlocked"),
    "opt_out": _("opted out of messages"), "case_rated": _("case rated"), "change_requested": _("change requested"),
    "consent": _("consent given"), "data_exported": _("own data downloaded"), "assigned": _("assigned"),
    "opened": _("opened"), "state_changed": _("state changed"), "transferred": _("transferred"),
    "note_added": _("note added"), "deadline_changed": _("deadline changed"), "reclassified": _("case type changed"),
    "subjects_changed": _("whom it is about changed"), "shared": _("shared"), "share_link": _("share link made"),
    "version": _("new version"), "check_in": _("checked in"), "check_out": _("checked out"),
    "force_release": _("released by force"),
}
# Things an audit code names that are not a model of their own.
THINGS = {"factor": _("second factor"), "login_rule": _("login rule"), "sign_on": _("single sign-on"),
          "token": _("API token"), "user": _("login"), "opt_out": _("messages"), "portal": _("self-service"),
          "saved_view": _("saved view"), "giro_file": _("bank file"), "return": _("employer return"),
          "entry": _("ledger entry"), "fee_schedule": _("fee schedule"), "policy": _("dues settings")}


def _model(code: str):
    try:
        return apps.get_model(*code.split(".")[:2]) if code.count(".") >= 1 else None
    except (LookupError, ValueError):
        return None


def action_label(action: str) -> str:
    """An audit code as the reader reads it: what it concerns and what happened."""
    parts = action.split(".")
    model = _model(action) if len(parts) >= 3 else None
    thing = model._meta.verbose_name if model else THINGS.get(parts[-2] if len(parts) >= 2 else "", "")
    verb = VERBS.get(parts[-1], parts[-1].replace("_", " "))
    if len(parts) == 2 and parts[0] == "portal":
        thing, verb = THINGS["portal"], VERBS.get(parts[1], parts[1].replace("_", " "))
    return f"{capfirst(thing)}: {verb}" if thing else capfirst(str(verb))


def field_label(model, field: str) -> str:
    """A changed field's name as its form labels it (its model's verbose name), else in plain words."""
    if model is not None:
        for name in (field, field.removesuffix("_id")):
            try:
                return capfirst(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                continue
    return capfirst(field.replace("_", " "))


def change_lines(changes, model=None) -> list[dict]:
    """{field, old, new} of each change (the field by its label), the national id never shown."""
    lines = []
    for field, pair in (changes or {}).items():
        if field == "national_id":
            lines.append({"field": field_label(model, field), "hidden": True})
            continue
        old, new = (("–" if v is None else localize(v)) for v in (_side(pair, 0), _side(pair, 1)))
        lines.append({"field": field_label(model, field), "old": old, "new": new})
    return lines


def history_rows(entries) -> list[dict]:
    """The rows of a change history (entries with their actor)."""
    return [{"at": a.at, "who": (a.actor.username if a.actor_id else "") or _("the system"),
             "channel": a.get_channel_display(), "action": action_label(a.action),
             "changes": change_lines(a.changes, _model(a.object_type))} for a in entries]


def looked_rows(entries) -> list[dict]:
    """The rows of the access log's table of who looked (entries with their user)."""
    return [{"at": e.at, "who": (e.user.username if e.user_id else "") or _("the system"),
             "channel": e.get_channel_display(), "action": e.action_label} for e in entries]
