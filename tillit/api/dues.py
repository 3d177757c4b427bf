"""Dues endpoints: thin over tillit.dues; reads through the same scope rules as the pages."""

import datetime
from typing import Annotated, Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tillit.api.registry import Message, Page
from tillit.api.types import Id, In, PageNumber, PageSize
from tillit.core import audit
from tillit.core.errors import InvalidInput
from tillit.core.scopes import DUES, SEND_RETURNS, VIEW_NOTICES, scope_for
from tillit.core.tasks import enqueue_on_commit
from tillit.dues import deviations as deviation_service
from tillit.dues import giro, ledger, notices, returns
from tillit.dues import run as runs
from tillit.dues.access import may_run
from tillit.dues.models import DeductionNotice, DuesRun, EmployerReturn, FeeSchedule, LedgerEntry
from tillit.registry.models import Person

router = Router(tags=["dues"])
Period = Annotated[str, Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", examples=["2027-01"])]
MAX_UPLOAD = 50 * 1024 * 1024


def _require(user, perm):
    if scope_for(user, perm).empty:
        raise Http404


def _slice(qs, page: int, size: int):
    rows = list(qs[(page - 1) * size:page * size + 1])
    return rows[:size], len(rows) > size


class FeeScheduleOut(Schema):
    id: int
    membership_type: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    kind: str
    amount: int
    rate: int
    minimum: int
    maximum: int | None

    @staticmethod
    def resolve_membership_type(obj):
        return obj.membership_type.code


@router.get("/dues/fee-schedules", response=list[FeeScheduleOut])
def fee_schedules(request):
    """Every fee schedule; amounts in øre, `rate` in hundredths of a per cent of the monthly salary."""
    _require(request.user, DUES)
    return list(FeeSchedule.objects.select_related("membership_type"))


class EntryOut(Schema):
    id: int
    kind: str
    period: datetime.date | None
    amount: int
    due_on: datetime.date | None
    method: str
    source: str
    reason: str
    created_at: datetime.datetime


class LedgerOut(Schema):
    person_id: int
    balance: int
    outstanding: int
    unpaid_since: datetime.date | None
    in_arrears: bool
    entries: list[EntryOut]


@router.get("/persons/{person_id}/dues", response={200: LedgerOut, 404: Message})
def person_dues(request, person_id: Id):
    """A member's ledger (øre; charges positive, payments negative) and the figures drawn from it."""
    person = get_object_or_404(Person.objects.visible_to(request.user), pk=person_id)
    if person.user_id != request.user.pk:
        audit.log_access(request.user, "dues.ledger.viewed", channel="api", person_id=person.pk)
    figures = ledger.statement(person)
    return {"person_id": person.pk, "balance": figures["balance"], "outstanding": figures["outstanding"],
            "unpaid_since": figures["uncovered_due_on"], "in_arrears": figures["in_arrears"],
            "entries": list(LedgerEntry.objects.filter(person=person).order_by("created_at", "pk")[:1000])}


class RunOut(Schema):
    id: int
    period: datetime.date
    status: str
    total: int
    processed: int
    percent: int
    totals: dict[str, int]
    started_at: datetime.datetime
    finished_at: datetime.datetime | None


class RunPage(Page):
    items: list[RunOut]


@router.get("/dues/runs", response=RunPage)
def run_list(request, page: PageNumber = 1, size: PageSize = 50):
    _require(request.user, DUES)
    items, has_next = _slice(DuesRun.objects.all(), page, size)
    return {"page": page, "has_next": has_next, "items": items}


@router.get("/dues/runs/{run_id}", response={200: RunOut, 404: Message})
def run_detail(request, run_id: Id):
    _require(request.user, DUES)
    return get_object_or_404(DuesRun, pk=run_id)


class RunIn(In):
    period: Period
    dry_run: bool = False


class DryRunOut(Schema):
    period: datetime.date
    totals: dict[str, int]


@router.post("/dues/runs", response={200: DryRunOut, 202: RunOut, 404: Message, 422: Message})
def run_start(request, payload: RunIn):
    """Start (or find) the run of a month; it goes on in the background (poll its `percent`). With `dry_run`,
    the totals it would charge, nothing written."""
    if not may_run(request.user):
        raise Http404
    period = runs.parse_period(payload.period)
    if payload.dry_run:
        return Status(200, {"period": period, "totals": runs.dry_run(period)})
    run = runs.start_run(period, actor=request.user)
    if run.status == DuesRun.Status.RUNNING:

        enqueue_on_commit(runs.run_in_background, period.isoformat(), request.user.pk)
    return Status(202, run)


class NoticeLineOut(Schema):
    kind: str
    member_number: str
    national_id: str
    name: str
    birth_date: str
    amount: int
    previous_amount: int
    reason: str


class NoticeOut(Schema):
    id: int
    number: int
    payroll_unit_id: int
    payroll_unit: str
    org_number: str
    period: datetime.date
    created_at: datetime.datetime
    sha256: str
    starts: int
    stops: int
    changes: int

    @staticmethod
    def resolve_payroll_unit(obj):
        return obj.payroll_unit.name

    @staticmethod
    def resolve_org_number(obj):
        return obj.payroll_unit.org_number

    @staticmethod
    def resolve_starts(obj):
        return obj.counts()["start"]

    @staticmethod
    def resolve_stops(obj):
        return obj.counts()["stop"]

    @staticmethod
    def resolve_changes(obj):
        return obj.counts()["change"]


class NoticeDetailOut(NoticeOut):
    lines: list[NoticeLineOut]


class NoticePage(Page):
    items: list[NoticeOut]


@router.get("/dues/notices", response=NoticePage)
def notice_list(request, page: PageNumber = 1, size: PageSize = 50):
    """Deduction notices of the payroll offices in the caller's scope, newest first."""
    _require(request.user, VIEW_NOTICES)
    qs = DeductionNotice.objects.visible_to(request.user).select_related("payroll_unit")
    items, has_next = _slice(qs, page, size)
    return {"page": page, "has_next": has_next, "items": items}


@router.get("/dues/notices/{notice_id}", response={200: NoticeDetailOut, 404: Message})
def notice_detail(request, notice_id: Id):
    _require(request.user, VIEW_NOTICES)
    notice = get_object_or_404(DeductionNotice.objects.visible_to(request.user).select_related("payroll_unit"),
                               pk=notice_id)
    audit.log_access(request.user, "dues.notice.viewed", channel="api", detail={"notice": notice.pk})
    return notice


class ReturnOut(Schema):
    id: int
    payroll_unit_id: int
    period: datetime.date
    filename: str
    rows: int
    matched: int
    amount: int
    deviations: int
    uploaded_at: datetime.datetime


class ReturnPage(Page):
    items: list[ReturnOut]


@router.get("/dues/returns", response=ReturnPage)
def return_list(request, page: PageNumber = 1, size: PageSize = 50):
    _require(request.user, VIEW_NOTICES)
    items, has_next = _slice(EmployerReturn.objects.visible_to(request.user), page, size)
    return {"page": page, "has_next": has_next, "items": items}


def _read(file: UploadedFile) -> bytes:
    if file.size > MAX_UPLOAD:
        raise InvalidInput("The file is larger than 50 MB.", field_errors={"file": ["Too large."]})
    return file.read()


@router.post("/dues/returns", response={200: ReturnOut, 404: Message, 409: Message, 422: Message})
def return_upload(request, file: File[UploadedFile], payroll_unit_id: Form[Id]):
    """An employer's return (CSV or XLSX: national_id or member_number, period YYYY-MM, amount in kroner).
    Refused whole (422, every bad row named) if any row is wrong."""
    _require(request.user, SEND_RETURNS)
    unit = notices.payroll_units_for(request.user, SEND_RETURNS).filter(pk=payroll_unit_id).first()
    if unit is None:
        raise Http404
    return returns.receive_return(unit, _read(file), filename=file.name or "", actor=request.user, channel="api")


class GiroOut(Schema):
    id: int
    kind: str
    transmission_number: str
    transactions: int
    booked: int
    amount: int
    deviations: int
    already_read: bool = False


@router.post("/dues/giro-files", response={200: GiroOut, 404: Message, 422: Message})
def giro_upload(request, file: File[UploadedFile]):
    """An OCR Giro file (payments, booked by KID) or an AvtaleGiro agreement file from Nets. A file read before
    comes back with `already_read` and nothing booked."""
    if not may_run(request.user):
        raise Http404
    found, new = giro.read_file(_read(file), filename=file.name or "", actor=request.user, channel="api")
    return {**{f: getattr(found, f) for f in ("id", "kind", "transmission_number", "transactions", "booked",
                                              "amount", "deviations")}, "already_read": not new}


class DeviationOut(Schema):
    id: int
    kind: str
    status: str
    person_id: int | None
    payroll_unit_id: int | None
    period: datetime.date | None
    expected: int | None
    actual: int | None
    reference: str
    detail: str
    version: int


class DeviationPage(Page):
    items: list[DeviationOut]


@router.get("/dues/deviations", response=DeviationPage)
def deviation_list(request, page: PageNumber = 1, size: PageSize = 50,
                   state: Literal["open", "accepted", "corrected", "written"] = "open"):
    """What returns and bank files did not match, in the state asked for (open by default)."""
    _require(request.user, DUES)
    qs = deviation_service.visible_deviations(request.user).filter(status=state).order_by("created_at", "pk")
    items, has_next = _slice(qs, page, size)
    return {"page": page, "has_next": has_next, "items": items}
