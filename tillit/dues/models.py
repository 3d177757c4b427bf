"""Dues: fee schedules, the ledger, monthly runs, invoices, deduction notices, employer returns, bank files.

Money is integer øre (öre) everywhere. The ledger is append-only: a correction is a new entry.
Reads that return personal data go through `visible_to(user)`, like every other app's.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.core.scopes import DUES, SEND_RETURNS, VIEW_NOTICES, scope_for  # noqa: F401 - re-exported
from tillit.registry.models import Employer, Membership, MembershipType, Person, unit_ids_in_scope


class DuesPolicy(models.Model):
    """The organisation's dues settings: one row (`policy()` makes it on first use)."""

    class KidMethod(models.TextChoices):
        MOD10 = "mod10", _("MOD10 (Luhn)")
        MOD11 = "mod11", _("MOD11")

    class PartialMonth(models.TextChoices):
        PRO_RATA = "pro_rata", _("by days: each day of the month is charged by the status of that day")
        FIRST_DAY = "first_day", _("whole month: the status on the first day of the month decides")

    kid_method = models.CharField(_("KID check digit"), max_length=5, choices=KidMethod.choices,
                                  default=KidMethod.MOD10)
    partial_month = models.CharField(_("a month partly dues-exempt"), max_length=10, choices=PartialMonth.choices,
                                     default=PartialMonth.PRO_RATA)
    due_day = models.PositiveSmallIntegerField(_("invoices fall due on day"), default=20)
    reminder_days = models.PositiveSmallIntegerField(_("first reminder, days after due"), default=14)
    second_reminder_days = models.PositiveSmallIntegerField(_("second reminder, days after due"), default=28)
    arrears_months = models.PositiveSmallIntegerField(_("flag members in arrears after months"), default=3)
    bank_account = models.CharField(_("bank account for invoices"), max_length=11, blank=True)
    nets_customer_id = models.CharField(_("Nets customer id"), max_length=8, blank=True)
    nets_agreement_id = models.CharField(_("Nets agreement id"), max_length=9, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("dues policy")

    def __str__(self):
        return "dues policy"


POLICY_KEY = "tillit:dues:policy"


def policy() -> DuesPolicy:
    """The dues settings, kept in the shared cache for a minute (every change forgets them)."""
    from tillit.core.kept import kept

    return kept(POLICY_KEY, 60, lambda: DuesPolicy.objects.order_by("pk").first() or DuesPolicy.objects.create())


def forget_policy() -> None:
    from tillit.core.kept import forget

    forget([POLICY_KEY])


class FeeSchedule(models.Model):
    """What a membership type costs a month in a period: a fixed amount, or a share of the monthly salary
    between a floor and a ceiling. Shares are rounded to whole kroner, halves up."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("fixed monthly amount")
        PERCENT = "percent", _("percentage of monthly salary")

    membership_type = models.ForeignKey(MembershipType, verbose_name=_("membership type"), on_delete=models.PROTECT,
                                        related_name="fee_schedules")
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True)  # inclusive
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FIXED)
    amount = models.BigIntegerField(_("amount (øre)"), default=0)  # fixed
    rate = models.PositiveIntegerField(_("rate (1/100 %)"), default=0)  # percent: 150 = 1.50 %
    minimum = models.BigIntegerField(_("floor (øre)"), default=0)
    maximum = models.BigIntegerField(_("ceiling (øre)"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        ordering = ["membership_type_id", "valid_from"]

    def __str__(self):
        return f"{self.membership_type_id} {self.valid_from}"


class DuesRun(models.Model):
    """The monthly charge of every member for one period; resumable from `cursor` (the last membership done)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")

    period = models.DateField(_("period"), unique=True)  # the first day of the month
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)  # memberships to go through
    processed = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    totals = models.JSONField(default=dict)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period"]

    def __str__(self):
        return self.period.strftime("%Y-%m")

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)


def payroll_scope_q(user, perm: str, prefix: str = "") -> Q | None:
    """Payroll offices (employer nodes, through `prefix`) the user reaches for `perm`: grants over the node or a
    node above it, and grants over a region holding one of its workplaces. None: no restriction (a superuser).
    A grant over one workplace does not reach its company's notice, which names the whole company's people."""
    scope = scope_for(user, perm)
    if scope.everything:
        return None
    q = Q(pk__in=[])
    if scope.paths["employer"]:
        q |= scope.tree_q("employer", prefix)
    if scope.paths["org"]:
        units = unit_ids_in_scope(user, scope)
        q |= Exists(Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region_id__in=units,
                                            path__startswith=OuterRef(f"{prefix}path")))
    return q


class EmployerScopedQuerySet(models.QuerySet):
    """Rows that belong to an employer's payroll office, visible by `payroll_scope_q`."""

    def visible_to(self, user, perm: str = VIEW_NOTICES):
        q = payroll_scope_q(user, perm, "payroll_unit__")
        return self if q is None else self.filter(q)


class DeductionNotice(models.Model):
    """What the union asked one payroll office to deduct from a period on: the changes since the previous
    notice (start, stop, change). Kept as sent: never updated, its hash chained to the previous one."""

    payroll_unit = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="deduction_notices")
    period = models.DateField(_("period"))
    number = models.PositiveIntegerField()
    lines = models.JSONField(default=list)
    state = models.JSONField(default=dict)  # {membership id: monthly amount} asked after this notice
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = EmployerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "-pk"]
        constraints = [models.UniqueConstraint(fields=["payroll_unit", "period"], name="one_notice_per_period")]

    def __str__(self):
        return f"notice {self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("a deduction notice is kept as it was sent")
        super().save(*args, **kwargs)

    def counts(self) -> dict:
        out = {"start": 0, "stop": 0, "change": 0}
        for line in self.lines:
            out[line["kind"]] += 1
        return out


class EmployerReturn(models.Model):
    """What a payroll office deducted for a period, as it sent it."""

    payroll_unit = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="dues_returns")
    period = models.DateField(_("period"))
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)  # of its content: the office, the period and the rows (not the file)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    deviations = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = EmployerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["payroll_unit", "sha256"], name="return_once")]

    def __str__(self):
        return self.filename


class GiroFile(models.Model):
    """A file from or for Nets: OCR Giro payments, AvtaleGiro agreements, or payment requests we wrote."""

    class Kind(models.TextChoices):
        OCR = "ocr", _("OCR Giro payments")
        AGREEMENTS = "agreements", _("AvtaleGiro agreements")
        REQUESTS = "requests", _("AvtaleGiro payment requests")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    transmission_number = models.CharField(max_length=7)
    data_transmitter = models.CharField(max_length=8)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    content = models.TextField(blank=True)  # payment requests we wrote, to download again
    transactions = models.PositiveIntegerField(default=0)
    booked = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    deviations = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "data_transmitter", "transmission_number"],
                                               name="giro_transmission_once")]

    def __str__(self):
        return f"{self.kind} {self.transmission_number}"


class PersonScopedQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str = "view"):
        return self.filter(person__in=Person.objects.visible_to(user, perm).values("pk"))


class LedgerEntry(models.Model):
    """One line of a member's dues account. Charges are positive, payments and credits negative."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("charge")
        PAYMENT = "payment", _("payment")
        CORRECTION = "correction", _("correction")
        WRITE_OFF = "write_off", _("write-off")

    class Method(models.TextChoices):
        DEDUCTION = "deduction", _("payroll deduction")
        INVOICE = "invoice", _("invoice")
        NONE = "none", _("nothing to pay")

    class Source(models.TextChoices):
        RUN = "run", _("monthly run")
        RETURN = "return", _("employer return")
        GIRO = "giro", _("bank (OCR Giro)")
        STAFF = "staff", _("member service")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="dues_entries")
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    period = models.DateField(_("period"), null=True, blank=True)
    amount = models.BigIntegerField(_("amount (øre)"))
    due_on = models.DateField(_("due"), null=True, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    payroll_unit = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    run = models.ForeignKey(DuesRun, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    employer_return = models.ForeignKey(EmployerReturn, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="entries")
    giro_file = models.ForeignKey(GiroFile, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    bank_reference = models.CharField(max_length=40, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PersonScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["person", "due_on"]), models.Index(fields=["period", "method", "payroll_unit"])]
        constraints = [models.UniqueConstraint(fields=["membership", "period"], condition=Q(kind="charge"),
                                               name="one_charge_per_member_and_period")]

    def __str__(self):
        return f"{self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("ledger entries are never edited; add a correction")
        super().save(*args, **kwargs)


class DuesAccount(models.Model):
    """Each person's running figures, kept with every ledger write: the balance, and the due date of the oldest
    charge that payments do not cover (payments cover charges oldest first). Outstanding dues on a day = that
    date lies before the day."""

    person = models.OneToOneField(Person, primary_key=True, on_delete=models.CASCADE, related_name="dues_account")
    balance = models.BigIntegerField(default=0)
    uncovered_due_on = models.DateField(null=True, blank=True, db_index=True)

    objects = PersonScopedQuerySet.as_manager()

    def __str__(self):
        return f"account of person {self.person_id}"


class Invoice(models.Model):
    """A charge a member pays by giro: KID (NO) or OCR reference (SE), a PDF, an email, reminders."""

    charge = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="invoice")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="dues_invoices")
    kid = models.CharField(_("KID / OCR reference"), max_length=25, unique=True)
    amount = models.BigIntegerField()
    due_on = models.DateField()
    language = models.CharField(max_length=5)
    paid = models.BigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    second_reminded_at = models.DateTimeField(null=True, blank=True)

    objects = PersonScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "pk"]
        indexes = [models.Index(fields=["due_on", "paid_at"])]

    def __str__(self):
        return self.kid

    @property
    def is_paid(self) -> bool:
        return self.paid >= self.amount


class GiroAgreement(models.Model):
    """A member's AvtaleGiro agreement, as Nets reported it."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="giro_agreement")
    kid = models.CharField(max_length=25)
    active = models.BooleanField(default=True)
    notify = models.BooleanField(default=True)
    giro_file = models.ForeignKey(GiroFile, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.kid


class Deviation(models.Model):
    """Something a return or a bank file did not match: member service decides, one action each."""

    class Kind(models.TextChoices):
        AMOUNT_DIFFERS = "amount_differs", _("deducted amount differs from the notice")
        UNKNOWN_PERSON = "unknown_person", _("person not known or not a member")
        NOT_DEDUCTED = "not_deducted", _("notified but not deducted")
        NOT_NOTIFIED = "not_notified", _("deducted but not notified")
        UNKNOWN_KID = "unknown_kid", _("payment with an unknown KID")
        UNDERPAID = "underpaid", _("invoice paid too little")
        OVERPAID = "overpaid", _("invoice paid too much")
        DEDUCTED_AGAIN = "deducted_again", _("deducted again: already booked for the period")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACCEPTED = "accepted", _("accepted")
        CORRECTED = "corrected", _("corrected")
        WRITTEN = "written", _("written to the employer")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payroll_unit = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(null=True, blank=True)
    expected = models.BigIntegerField(null=True, blank=True)
    actual = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=60, blank=True)  # the row's id or KID as the file gave it
    detail = models.CharField(max_length=300, blank=True)
    employer_return = models.ForeignKey(EmployerReturn, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="deviation_rows")
    giro_file = models.ForeignKey(GiroFile, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="deviation_rows")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.kind} {self.reference}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)
