"""The reps' portal keeps one thing of its own: the KPI figures per node and day (see kpis.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class KpiDay(models.Model):
    """One node's figures on one day, as `kpis.recount` counted them. A node missing on a counted day has none."""

    tree = models.CharField(max_length=10)  # "org" or "employer"
    node_id = models.BigIntegerField()
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)
    in_work = models.PositiveIntegerField(default=0)
    exempt = models.PositiveIntegerField(default=0)
    resigning_this_month = models.PositiveIntegerField(default=0)
    resigning_next_month = models.PositiveIntegerField(default=0)
    outstanding = models.PositiveIntegerField(default=0)
    new_this_month = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "node_id", "day"], name="one_kpi_row_per_node_and_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.tree}:{self.node_id} {self.day}"


class KpiCount(models.Model):
    """A day `recount` counted: its nodes' rows in KpiDay are whole (a node without a row has none)."""

    day = models.DateField(unique=True)
    counted_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"counted {self.day}"


class Declaration(models.Model):
    """The confidentiality declaration reps sign before any member list opens: one text per language, versioned.
    A new version (any change of text) asks every rep to sign again."""

    version = models.PositiveIntegerField(unique=True)
    texts = models.JSONField(default=dict)  # {"nb": "...", "sv": "...", "en": "..."}
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"declaration v{self.version}"

    def text_in(self, language: str) -> str:
        return self.texts.get(language) or self.texts.get("nb") or next(iter(self.texts.values()), "")


class Signature(models.Model):
    """A rep's signature of one version: who, their name as signed, when, in which language."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="signatures")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    language = models.CharField(max_length=5)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["declaration", "user"], name="sign_a_version_once")]

    def __str__(self):
        return f"{self.user_id} signed v{self.declaration_id}"


class SavedFilter(models.Model):
    """A member list a user named to come back to: the list's query (node, figure, filters, sort)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    query = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="one_saved_filter_per_name")]

    def __str__(self):
        return self.name


class Correction(models.Model):
    """A rep's correction of a member's data that waits for member service (the fields the organisation marks in
    TILLIT_REP_APPROVAL_FIELDS); the others are applied at once and only audited. `base_version` is the record's
    version the rep saw: an approval never overwrites a newer change."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for member service")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    employment = models.ForeignKey("registry.Employment", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    field = models.CharField(max_length=30)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    shown_value = models.CharField(max_length=200, blank=True)  # the new value in words (a workplace's name)
    base_version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["state", "requested_at"])]

    def __str__(self):
        return f"{self.field} of {self.person_id}: {self.state}"


class EntitlementBand(models.Model):
    """How many reps a workplace may elect by its number of organised employees (members): the organisation's
    rule table, seeded with the bands of Hovedavtalen LO–NHO § 5-3."""

    min_members = models.PositiveIntegerField(unique=True)
    reps = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["min_members"]

    def __str__(self):
        return f"{self.min_members}+: {self.reps}"


class TermReminder(models.Model):
    """A term ending soon that the regional office was told about (once per term), and the case that told it."""

    role = models.OneToOneField("registry.Role", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"term of role {self.role_id}"
