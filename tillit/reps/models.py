"""The reps' portal keeps one thing of its own: the KPI figures per node and day (see kpis.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


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
