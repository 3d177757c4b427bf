"""Deduction notices (trekkmeldinger): each month, per payroll office, the starts, stops and changes since the
previous notice; the full list on request; CSV, XLSX and PDF."""

import datetime
import hashlib
import json
from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tillit.core.bulk import insert_dicts
from tillit.core.models import AuditEntry
from tillit.core.services import next_numbers
from tillit.core.tables import money, table_bytes
from tillit.dues import access
from tillit.dues.models import DeductionNotice, LedgerEntry
from tillit.registry.identity import format_national_id
from tillit.registry.models import Employer, Membership, MembershipStatus

NOTICE_BATCH = 500


def asked_state(payroll_unit_id: int, period: datetime.date) -> dict[str, int]:
    """{membership id: amount} the payroll office is to deduct for the period, from the run's deduction lines."""
    return {str(mid): amount for mid, amount in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.CHARGE, period=period, method=LedgerEntry.Method.DEDUCTION,
        payroll_unit_id=payroll_unit_id).values_list("membership_id", "amount")}


def _asked_states(period: datetime.date, unit_ids: list[int] | None) -> dict[int, dict[str, int]]:
    """asked_state of every payroll office (or of those given), in one pass over the period's lines."""
    lines = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period,
                                       method=LedgerEntry.Method.DEDUCTION)
    if unit_ids is not None:
        lines = lines.filter(payroll_unit_id__in=unit_ids)
    states: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, mid, amount in lines.values_list("payroll_unit_id", "membership_id", "amount").iterator(
            chunk_size=20_000):
        states[unit_id][str(mid)] = amount
    return states


def _latest_before(period: datetime.date, unit_ids: list[int] | None) -> dict[int, DeductionNotice]:
    """Each payroll office's newest notice before the period."""
    notices = DeductionNotice.objects.filter(period__lt=period).filter(pk=Subquery(
        DeductionNotice.objects.filter(payroll_unit=OuterRef("payroll_unit"), period__lt=period)
        .order_by("-period").values("pk")[:1]))
    if unit_ids is not None:
        notices = notices.filter(payroll_unit_id__in=unit_ids)
    return {n.payroll_unit_id: n for n in notices.only("pk", "payroll_unit_id", "period", "state", "sha256")}


def _stop_reason(membership: Membership, period: datetime.date, charge_amount: int | None) -> str:
    if membership.ends_on and membership.ends_on < period:
        return _("membership ended %(d)s") % {"d": membership.ends_on.isoformat()}
    if charge_amount == 0:
        return _("dues-exempt")
    if membership.status == MembershipStatus.ENDED:
        return _("membership ended")
    return _("employment ended or payroll deduction stopped")


def _describe(memberships: dict[int, Membership]) -> dict[int, dict]:
    return {m.pk: {"member_number": m.member_number, "name": m.person.full_name,
                   "national_id": format_national_id(m.person.national_id) if m.person.national_id else "",
                   "birth_date": m.person.birth_date.isoformat() if m.person.birth_date else ""}
            for m in memberships.values()}


def _digest(unit_pk: int, org_number: str, period: datetime.date, lines: list, previous_sha: str) -> str:
    body = json.dumps({"payroll_unit": unit_pk, "org_number": org_number, "period": period.isoformat(),
                       "lines": lines, "previous": previous_sha}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _make(period: datetime.date, unit_ids: list[int] | None, *, actor=None, progress=None) -> int:
    """The period's notice for each payroll office that has something to say and no notice yet. In batches
    of offices, each one transaction; a notice already there is left as it was. A notice is a document issued to
    the employer: its reasons are written in the organisation's language, whoever starts it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _make_notices(period, unit_ids, actor=actor, progress=progress)


def _make_notices(period: datetime.date, unit_ids: list[int] | None, *, actor=None, progress=None) -> int:
    asked = _asked_states(period, unit_ids)
    latest = _latest_before(period, unit_ids)
    units = set(asked) | {u for u, n in latest.items() if n.state}
    units = sorted(units - set(DeductionNotice.objects.filter(period=period).values_list("payroll_unit_id",
                                                                                           flat=True)))
    org_numbers = {}
    for i in range(0, len(units), 2000):
        org_numbers.update(Employer.objects.filter(pk__in=units[i:i + 2000]).values_list("pk", "org_number"))
    made = 0
    for start in range(0, len(units), NOTICE_BATCH):
        batch = units[start:start + NOTICE_BATCH]
        changes = {}
        for unit_id in batch:
            before = latest[unit_id].state if unit_id in latest else {}
            now = asked.get(unit_id, {})
            changes[unit_id] = sorted((k for k in set(before) | set(now) if before.get(k) != now.get(k)), key=int)
        wanted = sorted({int(k) for keys in changes.values() for k in keys})
        memberships, charged = {}, {}
        for i in range(0, len(wanted), 2000):
            part = wanted[i:i + 2000]
            memberships.update(Membership.objects.select_related("person").in_bulk(part))
            charged.update(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period,
                                                      membership_id__in=part).values_list("membership_id", "amount"))
        who = _describe(memberships)
        rows = []
        for unit_id in batch:
            before = latest[unit_id].state if unit_id in latest else {}
            now = asked.get(unit_id, {})
            lines = []
            for key in changes[unit_id]:
                mid = int(key)
                line = {**who[mid], "amount": now.get(key, 0), "previous_amount": before.get(key, 0),
                        "from": period.isoformat()}
                if key not in before:
                    line.update(kind="start", reason=_("new deduction"))
                elif key not in now:
                    line.update(kind="stop", reason=_stop_reason(memberships[mid], period, charged.get(mid)))
                else:
                    line.update(kind="change", reason=_("new amount"))
                lines.append(line)
            previous = latest.get(unit_id)
            rows.append({"payroll_unit_id": unit_id, "period": period, "lines": lines, "state": now,
                         "previous_id": previous.pk if previous else None,
                         "sha256": _digest(unit_id, org_numbers.get(unit_id, ""), period, lines,
                                           previous.sha256 if previous else ""),
                         "created_at": timezone.now(), "created_by_id": getattr(actor, "pk", None)})
        try:
            with transaction.atomic():
                for row, number in zip(rows, next_numbers("dues.notice", len(rows)), strict=True):
                    row["number"] = number
                insert_dicts(DeductionNotice, rows)
                AuditEntry.objects.bulk_create([AuditEntry(
                    actor_id=getattr(actor, "pk", None), channel="system", action="dues.notice.created",
                    object_type="dues.deductionnotice", object_id=row["id"],
                    changes={"payroll_unit": [None, row["payroll_unit_id"]], "period": [None, period.isoformat()],
                             "lines": [None, len(row["lines"])], "sha256": [None, row["sha256"]]}) for row in rows])
        except IntegrityError:  # someone made some of these meanwhile: make the rest one by one
            for unit_id in batch:
                if not DeductionNotice.objects.filter(payroll_unit_id=unit_id, period=period).exists():
                    made += _make(period, [unit_id], actor=actor)
            continue
        made += len(rows)
        if progress:
            progress(min(start + NOTICE_BATCH, len(units)), len(units))
    return made


def make_notice(unit: Employer, period: datetime.date, *, actor=None) -> DeductionNotice:
    """The notice of the period for this payroll office (made once; asking again returns it)."""
    access.check(actor, lambda: access.may_run(actor))
    existing = DeductionNotice.objects.filter(payroll_unit=unit, period=period).first()
    if existing is None:
        _make(period, [unit.pk], actor=actor)
        existing = DeductionNotice.objects.get(payroll_unit=unit, period=period)
    return existing


def make_notices(period: datetime.date, *, actor=None, progress=None) -> int:
    """Every payroll office's notice for the period; returns how many offices have one."""
    access.check(actor, lambda: access.may_run(actor))
    _make(period, None, actor=actor, progress=progress)
    return DeductionNotice.objects.filter(period=period).count()


def full_list(unit: Employer, period: datetime.date) -> list[dict]:
    """Everyone the payroll office is to deduct for in the period, with the amount (not stored: on request)."""
    state = asked_state(unit.pk, period)
    memberships = {m.pk: m for m in Membership.objects.select_related("person").filter(
        pk__in=[int(k) for k in state])}
    who = _describe(memberships)
    return sorted(({**who[int(k)], "kind": "deduct", "amount": amount, "previous_amount": amount,
                    "from": period.isoformat(), "reason": ""} for k, amount in state.items()),
                  key=lambda line: (line["name"], line["member_number"]))


# --- files ---------------------------------------------------------------------------------------

COLUMNS = ["kind", "member_number", "national_id", "name", "birth_date", "amount", "previous_amount", "from",
           "reason"]


def _title(unit: Employer, period: datetime.date, notice: DeductionNotice | None) -> str:
    kind = _("Deduction notice %(n)s") % {"n": notice.number} if notice else _("Full deduction list")
    return f"{kind} · {unit.name} ({unit.org_number or '–'}) · {period:%Y-%m}"


def _cells(line: dict) -> list:
    return [money(line[c]) if c in ("amount", "previous_amount") else line.get(c, "") for c in COLUMNS]


def as_csv(lines: list[dict]) -> bytes:
    return table_bytes("csv", COLUMNS, (_cells(line) for line in lines))


def as_xlsx(lines: list[dict], title: str) -> bytes:
    return table_bytes("xlsx", COLUMNS, (_cells(line) for line in lines), sheet="notice", title=title)


def as_pdf(lines: list[dict], title: str, sha256: str = "") -> bytes:
    from tillit.dues.pdf import table_pdf

    labels = {"start": _("start"), "stop": _("stop"), "change": _("change"), "deduct": _("deduct")}
    rows = [[labels.get(line["kind"], line["kind"]), line["member_number"], line["national_id"], line["name"],
             str(money(line["amount"])), line["reason"]] for line in lines]
    return table_pdf(title, [_("What"), _("Member no."), _("National id"), _("Name"), _("Amount"), _("Reason")],
                     rows, widths=[16, 22, 30, 52, 22, 48],
                     footer=(_("SHA-256 of this notice: %(h)s") % {"h": sha256}) if sha256 else
                     _("Made %(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")})


def render(lines: list[dict], fmt: str, *, unit: Employer, period: datetime.date,
           notice: DeductionNotice | None = None) -> tuple[bytes, str, str]:
    """(content, content type, filename) of a notice or a full list in `fmt` (csv, xlsx, pdf)."""
    title = _title(unit, period, notice)
    stem = f"{'notice-' + str(notice.number) if notice else 'deduction-list'}-{unit.org_number or unit.pk}-" \
           f"{period:%Y-%m}"
    if fmt == "csv":
        return as_csv(lines), "text/csv; charset=utf-8", f"{stem}.csv"
    if fmt == "xlsx":
        return (as_xlsx(lines, title), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"{stem}.xlsx")
    return as_pdf(lines, title, notice.sha256 if notice else ""), "application/pdf", f"{stem}.pdf"


def payroll_units_for(user, perm: str):
    """The payroll offices (companies, and groups that handle payroll) a user reaches for `perm`."""
    from tillit.dues.models import payroll_scope_q

    units = Employer.objects.filter(Q(kind=Employer.Kind.COMPANY) | Q(handles_payroll=True))
    q = payroll_scope_q(user, perm)
    return units if q is None else units.filter(q)
