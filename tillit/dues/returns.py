"""Employer returns: what a payroll office deducted for a period, matched to what it was asked to deduct.

Layout (CSV with ; or , or a tab, or XLSX; first row the header, in any order):
    national_id   the employee's fødselsnummer / personnummer   (this or member_number)
    member_number the member number from the notice              (this or national_id)
    period        the month deducted for, YYYY-MM
    amount        kroner deducted, like 450 or 450,50
A file with any bad row is refused whole, every bad row named; nothing is booked.
"""

import csv
import hashlib
import io
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.bulk import insert_with_ids
from tillit.core.errors import ConflictError, InvalidInput
from tillit.core.text import control_character_problem
from tillit.dues import access
from tillit.dues.invoices import kroner
from tillit.dues.ledger import parse_amount, refresh_accounts
from tillit.dues.models import Deviation, EmployerReturn, LedgerEntry
from tillit.dues.run import parse_period
from tillit.registry.identity import parse_national_id
from tillit.registry.models import Employer, Membership

COLUMNS = ["national_id", "member_number", "period", "amount"]
MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024


def template_csv() -> bytes:
    return ("national_id;member_number;period;amount\n"
            "01017012345;;2027-01;450,00\n;100123;2027-01;380,00\n").encode("utf-8-sig")


def _rows(data: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        from tillit.core.sheets import open_workbook, rows_present

        try:
            book = open_workbook(io.BytesIO(data))
            rows = []
            for _number, values in rows_present(book.worksheets[0]):
                if len(rows) > MAX_ROWS:  # the limit is checked while reading, not after
                    break
                rows.append(["" if c is None else str(c).strip() for c in values[:len(COLUMNS) + 20]])
            book.close()
            return rows
        except Exception as exc:  # any damaged workbook is one answer
            raise InvalidInput(_("The file is not a readable XLSX workbook."),
                               field_errors={"file": [str(exc)[:200]]}) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:4096]
    delimiter = max([";", ",", "\t"], key=sample.count)
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:  # a binary file, a stray NUL or line break inside a field
        raise InvalidInput(_("The file is not a readable CSV or XLSX file."),
                           field_errors={"file": [str(exc)[:200]]}) from None


def parse_return(data: bytes, filename: str = "") -> tuple[list[dict], "datetime.date"]:  # noqa: F821
    """The rows as {line, national_id, member_number, period, amount}; InvalidInput naming every bad row."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 20 MB."), field_errors={"file": [_("Too large.")]})
    rows = [r for r in _rows(data, filename) if any(r)]
    if not rows:
        raise InvalidInput(_("The file is empty."), field_errors={"file": [_("No rows.")]})
    header = [h.lower().replace(" ", "_") for h in rows[0]]
    missing = [c for c in ("period", "amount") if c not in header]
    if missing or not ({"national_id", "member_number"} & set(header)):
        need = ", ".join(missing) or "national_id / member_number"
        raise InvalidInput(_("The first row must name the columns; missing: %(c)s.") % {"c": need},
                           field_errors={"file": [_("Missing columns: %(c)s") % {"c": need}]})
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(_("At most %(n)s rows in one file.") % {"n": MAX_ROWS}, field_errors={"file": ["rows"]})
    at = {name: header.index(name) for name in COLUMNS if name in header}
    problems, out, periods = [], [], set()
    for line, row in enumerate(rows[1:], 2):
        def cell(name, row=row):
            i = at.get(name)
            return row[i] if i is not None and i < len(row) else ""

        errs: dict[str, list[str]] = {}
        values = {name: cell(name) for name in COLUMNS}
        for name, value in values.items():
            if control_character_problem(value, multiline=False):
                errs.setdefault(name, []).append(_("holds a control character or a line break"))
        nid = ""
        if values["national_id"]:
            try:
                nid = parse_national_id(values["national_id"])[0]
            except ValueError as exc:
                errs.setdefault("national_id", []).append(str(exc))
        if not nid and not values["member_number"]:
            errs.setdefault("national_id", []).append(_("give a national id or a member number"))
        try:
            period = parse_period(values["period"])
            periods.add(period)
        except ValueError:
            errs.setdefault("period", []).append(_("a month as YYYY-MM"))
            period = None
        amount = parse_amount(values["amount"], "amount", errs)
        if amount is not None and amount < 0:
            errs.setdefault("amount", []).append(_("cannot be negative"))
        if errs:
            problems.append(_("row %(n)s: %(e)s") % {"n": line, "e": "; ".join(
                f"{k}: {', '.join(v)}" for k, v in errs.items())})
            continue
        out.append({"line": line, "national_id": nid, "member_number": values["member_number"], "period": period,
                    "amount": amount})
    if len(periods) > 1:
        problems.append(_("the rows name more than one period (%(p)s): send one file per month") % {
            "p": ", ".join(sorted(f"{p:%Y-%m}" for p in periods))})
    if problems:
        shown = problems[:50] + ([_("and %(n)s more rows") % {"n": len(problems) - 50}] if len(problems) > 50 else [])
        raise InvalidInput(_("The file was refused: %(n)s rows are wrong. Nothing was booked.") % {
            "n": len(problems)}, field_errors={"file": shown})
    if not out:
        raise InvalidInput(_("The file has a header but no rows."), field_errors={"file": [_("No rows.")]})
    return out, periods.pop()


def content_digest(unit: Employer, period, rows: list[dict]) -> str:
    """What makes two returns the same: the office, the period and the rows (who, how much), whatever the file."""
    lines = sorted((r["national_id"], r["member_number"], r["amount"]) for r in rows)
    return hashlib.sha256(json.dumps([unit.pk, period.isoformat(), lines]).encode()).hexdigest()


def receive_return(unit: Employer, data: bytes, *, filename: str = "", actor=None,
                   channel: str = "ui") -> EmployerReturn:
    """Match a payroll office's return to the period's deduction lines and book what was deducted. A return
    received before (the same content, as another file type) is refused; a deduction already booked for the
    period by an earlier return is a deviation, never a second credit."""
    access.check(actor, lambda: access.may_send_return(actor, unit))
    rows, period = parse_return(data, filename)
    digest = content_digest(unit, period, rows)  # the same rows as CSV or XLSX, in any order: the same return
    if found := EmployerReturn.objects.filter(payroll_unit=unit, sha256=digest).first():
        raise ConflictError(_("This file was received already, on %(d)s; nothing was booked again.") % {
            "d": timezone.localtime(found.uploaded_at).strftime("%Y-%m-%d %H:%M")},
            field_errors={"file": [_("Already received.")]})
    asked = {e.membership_id: e for e in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.CHARGE, period=period, method=LedgerEntry.Method.DEDUCTION, payroll_unit=unit)}
    by_number = {m.member_number: m for m in Membership.objects.filter(
        member_number__in=[r["member_number"] for r in rows if r["member_number"]])}
    by_nid = {}
    nids = [r["national_id"] for r in rows if r["national_id"]]
    for start in range(0, len(nids), 2000):
        for m in Membership.objects.filter(person__national_id__in=nids[start:start + 2000]).select_related(
                "person").order_by("joined_on"):
            by_nid[m.person.national_id] = m  # the latest membership wins
    try:
        with transaction.atomic():
            ret = EmployerReturn.objects.create(payroll_unit=unit, period=period, filename=filename[:255],
                                                sha256=digest, rows=len(rows),
                                                uploaded_by=actor if getattr(actor, "pk", None) else None)
            entries, deviations, seen = [], [], set()
            booked = set(LedgerEntry.objects.filter(
                kind=LedgerEntry.Kind.PAYMENT, period=period, payroll_unit=unit, source=LedgerEntry.Source.RETURN)
                .values_list("membership_id", flat=True))
            now = timezone.now()
            for row in rows:
                membership = by_number.get(row["member_number"]) if row["member_number"] else None
                membership = membership or by_nid.get(row["national_id"])
                ref = row["member_number"] or row["national_id"]
                ref = _("row %(n)s (%(r)s)") % {"n": row["line"], "r": ref[:6] + "…" if not row["member_number"]
                                                 else ref}
                if membership is None:
                    deviations.append(Deviation(kind=Deviation.Kind.UNKNOWN_PERSON, payroll_unit=unit, period=period,
                                                actual=row["amount"], reference=ref[:60], employer_return=ret,
                                                detail=_("no member with this national id or member number"),
                                                created_at=now))
                    continue
                charge = asked.get(membership.pk)
                if membership.pk in booked or membership.pk in seen:
                    deviations.append(Deviation(
                        kind=Deviation.Kind.DEDUCTED_AGAIN, person_id=membership.person_id, membership=membership,
                        payroll_unit=unit, period=period, expected=0, actual=row["amount"], reference=ref[:60],
                        employer_return=ret, created_at=now,
                        detail=_("deducted %(a)s again: already booked for this period") % {
                            "a": kroner(row["amount"])}))
                    continue
                seen.add(membership.pk)
                entries.append(LedgerEntry(
                    person_id=membership.person_id, membership=membership, kind=LedgerEntry.Kind.PAYMENT,
                    period=period, amount=-row["amount"], payroll_unit=unit, source=LedgerEntry.Source.RETURN,
                    reason=_("deducted by %(u)s") % {"u": unit.name[:150]}, employer_return=ret, created_at=now))
                if charge is None:
                    deviations.append(Deviation(
                        kind=Deviation.Kind.NOT_NOTIFIED, person_id=membership.person_id, membership=membership,
                        payroll_unit=unit, period=period, expected=0, actual=row["amount"], reference=ref[:60],
                        employer_return=ret, created_at=now,
                        detail=_("deducted %(a)s, but no deduction was asked for this period") % {
                            "a": kroner(row["amount"])}))
                elif charge.amount != row["amount"]:
                    deviations.append(Deviation(
                        kind=Deviation.Kind.AMOUNT_DIFFERS, person_id=membership.person_id, membership=membership,
                        payroll_unit=unit, period=period, expected=charge.amount, actual=row["amount"],
                        reference=ref[:60], employer_return=ret, created_at=now,
                        detail=_("asked %(e)s, deducted %(a)s") % {"e": kroner(charge.amount),
                                                                  "a": kroner(row["amount"])}))
            returned_before = set(LedgerEntry.objects.filter(
                employer_return__payroll_unit=unit, employer_return__period=period).exclude(
                employer_return=ret).values_list("membership_id", flat=True))
            for mid, charge in asked.items():
                if mid not in seen and mid not in returned_before:
                    deviations.append(Deviation(
                        kind=Deviation.Kind.NOT_DEDUCTED, person_id=charge.person_id, membership_id=mid,
                        payroll_unit=unit, period=period, expected=charge.amount, actual=0, employer_return=ret,
                        reference=str(mid), created_at=now,
                        detail=_("asked %(e)s, not in the return") % {"e": kroner(charge.amount)}))
            insert_with_ids(LedgerEntry, entries)
            insert_with_ids(Deviation, deviations)
            ret.matched = sum(1 for e in entries) - sum(1 for d in deviations if d.kind in (
                Deviation.Kind.AMOUNT_DIFFERS, Deviation.Kind.NOT_NOTIFIED))
            ret.amount, ret.deviations = -sum(e.amount for e in entries), len(deviations)
            EmployerReturn.objects.filter(pk=ret.pk).update(matched=ret.matched, amount=ret.amount,
                                                            deviations=ret.deviations)
            refresh_accounts([e.person_id for e in entries])
            audit.record("dues.return.received", ret, actor=actor, channel=channel,
                         changes={"payroll_unit": [None, unit.pk], "period": [None, period.isoformat()],
                                  "rows": [None, ret.rows], "deviations": [None, ret.deviations]})
    except IntegrityError:
        raise ConflictError(_("This file was received already; nothing was booked again."),
                            field_errors={"file": [_("Already received.")]}) from None
    return ret
