"""Case types with versioned processes, cases, and the append-only case timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.core.models import ScopedQuerySet, Translated
from tillit.core.text import shown
from tillit.registry.models import Employer, OrgUnit, Person, unit_ids_in_scope


class CaseType(Translated):
    """A kind of case (also a service in the members' and citizens' catalogue)."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    default_unit = models.ForeignKey(OrgUnit, verbose_name=_("default responsible unit"), on_delete=models.PROTECT,
                                     related_name="+")
    subject_can_see = models.BooleanField(_("the subject can follow it in the portal"), default=True)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    deadline_days = models.PositiveIntegerField(_("deadline for the whole case (business days)"), null=True,
                                                blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Incoming email that is not a reply to a case opens a case of the intake type.
    is_intake = models.BooleanField(_("intake for incoming email"), default=False)
    # Where it is offered: empty for every country, else the countries of the units that may open it.
    countries = models.JSONField(_("countries"), default=list, blank=True)

    class Meta:
        verbose_name = _("case type")
        verbose_name_plural = _("case types")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def offered_in(self, country: str) -> bool:
        return not self.countries or country in self.countries

    @property
    def process(self) -> "Process":
        """The current process version; open cases keep the version they started with."""
        return self.processes.order_by("-version").first()


class Process(models.Model):
    """One version of a case type's process. Published versions never change."""

    case_type = models.ForeignKey(CaseType, on_delete=models.CASCADE, related_name="processes")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case_type", "version"], name="one_process_per_version")]

    def __str__(self):
        return f"{self.case_type} v{self.version}"

    def initial_state(self) -> "State":
        return self.states.order_by("order", "pk").first()


class State(Translated):
    class Category(models.TextChoices):
        NEW = "new", _("new")
        IN_PROGRESS = "in_progress", _("in progress")
        WAITING = "waiting", _("waiting for someone")
        CLOSED = "closed", _("closed")

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="states")
    code = models.SlugField(max_length=40)
    name = models.CharField(_("name"), max_length=80)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    deadline_days = models.PositiveIntegerField(_("deadline (business days)"), null=True, blank=True)
    remind_after_days = models.PositiveIntegerField(_("remind after (days)"), null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["process", "code"], name="state_code_unique_in_process")]

    def __str__(self):
        return self.name


class Transition(Translated):
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="transitions")
    code = models.SlugField(max_length=40)
    label = models.CharField(_("label"), max_length=80)
    from_state = models.ForeignKey(State, on_delete=models.CASCADE, related_name="transitions_out")
    to_state = models.ForeignKey(State, on_delete=models.CASCADE, related_name="transitions_in")
    # Access roles (see core.scopes.ROLES) that may take it; empty means anyone who may edit the case.
    roles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["process", "code", "from_state"],
                                               name="transition_unique_from_state")]

    def __str__(self):
        return self.label

    @property
    def shown_label(self) -> str:
        return shown(self.label, self.translations)


class CaseQuerySet(ScopedQuerySet):
    def within_scope(self, user, scope, perm):
        """Cases of the user's org units' subtrees, cases they handle, and cases shared with them."""
        q = Q(handler=user) | Q(Exists(CaseShare.objects.filter(case=OuterRef("pk"), user=user)))
        org = scope.tree_q("org", "")
        if org is not None:
            q |= Q(responsible_unit_id__in=unit_ids_in_scope(user, scope))
        return self.filter(q)

    def open(self):
        # closed_at is set exactly when a case enters a closed state (cases.services.transition_case)
        return self.filter(closed_at__isnull=True)

    def overdue(self, today):
        return self.open().filter(due_on__lt=today)


class Case(models.Model):
    class Priority(models.IntegerChoices):
        LOW = 1, _("low")
        NORMAL = 2, _("normal")
        HIGH = 3, _("high")
        URGENT = 4, _("urgent")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("resolved")
        PARTLY = "partly", _("partly resolved")
        NOT_RESOLVED = "not_resolved", _("not resolved")
        WITHDRAWN = "withdrawn", _("withdrawn by the person")
        REFERRED = "referred", _("referred elsewhere")

    number = models.CharField(_("case number"), max_length=12, unique=True)
    title = models.CharField(_("title"), max_length=200)
    case_type = models.ForeignKey(CaseType, verbose_name=_("case type"), on_delete=models.PROTECT)
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="+")
    state = models.ForeignKey(State, verbose_name=_("state"), on_delete=models.PROTECT, related_name="+")
    state_since = models.DateTimeField(default=timezone.now)
    responsible_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                         related_name="cases")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handler"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="handled_cases")
    subjects = models.ManyToManyField(Person, verbose_name=_("about"), blank=True, related_name="cases")
    employer = models.ForeignKey(Employer, verbose_name=_("employer"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="cases")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    related = models.ManyToManyField("self", verbose_name=_("related cases"), blank=True, symmetrical=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)  # set on closing
    due_on = models.DateField(_("due"), null=True, blank=True)
    state_due_on = models.DateField(_("state due"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Set by the deadline task, so each passed deadline and each reminder is handled once.
    overdue_noted_on = models.DateField(null=True, blank=True)
    # The first thing staff did on the case after it was opened (for the first-response measure).
    first_response_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["due_on", "id"], condition=Q(closed_at__isnull=True), name="case_open_due"),
                   models.Index(fields=["responsible_unit", "due_on", "id"], condition=Q(closed_at__isnull=True),
                                name="case_open_unit_due"),
                   models.Index(fields=["handler", "due_on"], condition=Q(closed_at__isnull=True),
                                name="case_open_handler_due"),
                   # Covering (PostgreSQL): the measurement page's percentiles read only the index.
                   models.Index(fields=["responsible_unit", "closed_at"], include=["opened_at"],
                                name="case_unit_closed"),
                   models.Index(fields=["responsible_unit", "opened_at"], include=["first_response_at"],
                                name="case_unit_opened"),
                   models.Index(fields=["opened_at"])]

    def __str__(self):
        return f"{self.number} {self.title}"


class CaseShare(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="share_once")]

    def __str__(self):
        return f"{self.case_id} → {self.user_id}"


class CaseEvent(models.Model):
    """One entry of the timeline. Append-only: a correction is a new entry."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        NOTE = "note", _("internal note")
        MESSAGE_OUT = "message_out", _("message to the subject")
        MESSAGE_IN = "message_in", _("message from the subject")
        STATE = "state", _("state change")
        ASSIGNMENT = "assignment", _("assignment")
        TRANSFER = "transfer", _("transfer")
        DEADLINE = "deadline", _("deadline change")
        LINK = "link", _("link")
        REMINDER = "reminder", _("reminder")
        DOCUMENT = "document", _("document")
        SUBJECTS = "subjects", _("whom the case is about")
        CASE_TYPE = "case_type", _("case type change")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    public = models.BooleanField(default=False)  # shown to the subject in the portal
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self):
        return f"{self.case_id} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The case timeline is append-only; add a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The case timeline is append-only.")


class UnitDay(models.Model):
    """What happened to one unit's cases on one day, counted as it happens (cases.daycounts), so the
    measurement page reads a few hundred rows instead of millions of cases and their timelines."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    moved_in = models.PositiveIntegerField(default=0)  # open cases transferred here
    moved_out = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="unit_day_once")]

    def __str__(self):
        return f"{self.unit_id} {self.day}"


class UnitDayState(models.Model):
    """Time spent in a state by the cases that left it on that day, at that unit."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    state = models.CharField(max_length=100)  # the state's name, as the page shows it
    seconds = models.FloatField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day", "state"], name="unit_day_state_once")]

    def __str__(self):
        return f"{self.unit_id} {self.day} {self.state}"
