"""What a member-service user's first page shows: their own work, their units' backlog, and for the people
who configure Tillit, what needs configuring and whether the worker and the mail are well."""

import dataclasses
import datetime

from django.db.models import F
from django.utils import timezone

from tillit.cases.models import Case, CaseType
from tillit.core.models import Notification
from tillit.core.present import capped_count
from tillit.core.scopes import CONFIGURE, EDIT, VIEW, scope_for
from tillit.registry.models import OrgUnit, units_in_scope

SHOWN = 10


def _case_rows(qs, today):
    rows = qs.values_list("pk", "number", "title", "state__name", "due_on", "state__category")[:SHOWN]
    return [{"pk": pk, "number": number, "title": title, "state": state, "due": due,
             "overdue": bool(due and due < today and category != "closed")}
            for pk, number, title, state, due, category in rows]


def _noted(user, kind, since=None) -> list[int]:
    """Ids of the cases of the user's notifications of one kind (unread, or since a time): the notifications'
    own index, never a scan of the timelines."""
    qs = Notification.objects.filter(user=user, kind=kind, object_type="case")
    qs = qs.filter(created_at__gte=since) if since else qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at").values_list("object_id", flat=True)[:200])


def my_work(user, today: datetime.date) -> dict:
    visible = Case.objects.visible_to(user)
    mine = visible.open().filter(handler=user)
    by_due = [F("due_on").asc(nulls_last=True), "pk"]
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    mine_count, mine_more = capped_count(mine)
    late_count, late_more = capped_count(mine.filter(due_on__lt=today))
    return {"mine": _case_rows(mine.order_by(*by_due), today), "mine_count": mine_count, "mine_more": mine_more,
            "mine_overdue": late_count, "mine_overdue_more": late_more,
            "overdue": _case_rows(visible.overdue(today).order_by("due_on", "pk"), today),
            "answered": _case_rows(visible.filter(pk__in=_noted(user, Notification.Kind.ANSWERED)).order_by(*by_due),
                                   today),
            # assigned to me by someone else today (each such assignment notified me)
            "assigned_today": _case_rows(mine.filter(pk__in=_noted(user, Notification.Kind.ASSIGNED, start))
                                         .order_by(*by_due), today)}


def top_units(user, perm=EDIT) -> list[OrgUnit]:
    """The highest units the user covers (their grants' units; for a superuser, the roots)."""
    scope = scope_for(user, perm)
    if scope.everything:
        return list(OrgUnit.objects.get_root_nodes())
    units = units_in_scope(user, perm)
    paths = [u.path for u in units]
    return [u for u in units if not any(u.path != p and u.path.startswith(p) for p in paths)][:12]


def unit_backlog(user, today: datetime.date) -> list[dict]:
    """Open, overdue and unassigned cases of each of the user's top units, counted up to core.present.COUNT_CAP
    through the open cases' partial indexes. A unit the user covers shows all its cases (the scope rule), so no
    per-row visibility test is needed."""
    out = []
    for unit in top_units(user):
        ids = list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
        cases = Case.objects.open().filter(responsible_unit_id__in=ids)
        row = {"unit": unit}
        for key, qs in (("open", cases), ("overdue", cases.filter(due_on__lt=today)),
                        ("unassigned", cases.filter(handler__isnull=True))):
            row[key], row[f"{key}_more"] = capped_count(qs)
        out.append(row)
    return out


@dataclasses.dataclass
class Check:
    ok: bool
    text: str
    link: str = ""


def configuration(user) -> list[Check]:
    """What a system owner should look at: missing configuration, the worker's pulse, the mail's failures."""
    from django.conf import settings
    from django.utils.translation import gettext as _
    from django_tasks_db.models import DBTaskResult

    from tillit.core.models import WorkerBeat
    from tillit.messaging.models import Message

    checks = []
    types = CaseType.objects.filter(active=True)
    checks.append(Check(types.exists(), _("Case types are configured.") if types.exists() else
                        _("No case type yet: cases cannot be opened."), "case_types"))
    intake = types.filter(is_intake=True).exists()
    checks.append(Check(intake, _("Incoming email opens cases of an intake type.") if intake else
                        _("No intake case type: incoming email that is not a reply waits without a case."),
                        "case_types"))
    others = [code for code, _n in settings.LANGUAGES if code != settings.LANGUAGE_CODE[:2]]
    untranslated = [t.name for t in types if not all(t.translations.get(code) for code in others)]
    checks.append(Check(not untranslated, _("Every case type has a name in every language.") if not untranslated
                        else _("Case types without a name in every language: %(names)s.") % {
                            "names": ", ".join(untranslated[:5])}, "case_types"))
    now = timezone.now()
    beat = WorkerBeat.objects.order_by("-beat_at").first()
    alive = bool(beat and beat.beat_at >= now - datetime.timedelta(seconds=settings.TILLIT_TASK_LEASE_SECONDS))
    checks.append(Check(alive, _("The worker is running.") if alive else
                        _("No worker has reported for a while: mail, deadlines and imports wait. Start "
                          "`tillit worker`.")))
    failed = DBTaskResult.objects.filter(status="FAILED", finished_at__gte=now - datetime.timedelta(days=1)).count()
    checks.append(Check(not failed, _("No background task failed in the last day.") if not failed else
                        _("%(n)d background tasks failed in the last day.") % {"n": failed}))
    bad = Message.objects.filter(direction=Message.Direction.OUT, status__in=[
        Message.Status.FAILED, Message.Status.UNCERTAIN], created_at__gte=now - datetime.timedelta(days=7)).count()
    checks.append(Check(not bad, _("No outgoing email failed in the last week.") if not bad else
                        _("%(n)d outgoing emails failed or are uncertain in the last week.") % {"n": bad}))
    return checks


def home_for(user, today=None) -> dict:
    today = today or timezone.localdate()
    data = {"today": today, "can_edit": not scope_for(user, EDIT).empty, "can_view": not scope_for(user, VIEW).empty}
    if data["can_edit"]:
        data.update(my_work(user, today))
        data["units"] = unit_backlog(user, today)
    if not scope_for(user, CONFIGURE).empty:
        data["checks"] = configuration(user)
    return data
