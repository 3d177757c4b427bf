"""Self-service: public services with their forms, requests waiting for an email to be confirmed, one-time login
links, consents, the knowledge base, bookings and satisfaction ratings. Cases, people and documents are the
staff's own; nothing here copies them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("nb", "sv", "en")


def in_language(texts: dict, language: str) -> str:
    """A text kept per language: the reader's, else bokmål, else any."""
    texts = texts or {}
    return texts.get(language) or texts.get("nb") or next(iter(texts.values()), "")


class Service(models.Model):
    """A case type offered in the service catalogue: who may ask (members, or anyone), its introduction, its form,
    and whether the person books a time."""

    class Audience(models.TextChoices):
        ANYONE = "anyone", _("anyone, also without an account")
        MEMBERS = "members", _("members who are logged in")

    case_type = models.OneToOneField("cases.CaseType", on_delete=models.PROTECT, related_name="service")
    titles = models.JSONField(default=dict)  # per language
    intros = models.JSONField(default=dict)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ANYONE)
    active = models.BooleanField(default=True)
    feedback = models.BooleanField(default=False)  # the "give feedback" (synpunkt) service
    # booking: slots of `slot_minutes` between the opening hours on business days, `capacity` people each
    bookable = models.BooleanField(default=False)
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    capacity = models.PositiveSmallIntegerField(default=1)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    days_ahead = models.PositiveSmallIntegerField(default=20)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return in_language(self.titles, "nb") or str(self.case_type)

    def title(self, language: str) -> str:
        return in_language(self.titles, language) or self.case_type.name


class FormField(models.Model):
    class Kind(models.TextChoices):
        SHORT = "short", _("short text")
        LONG = "long", _("long text")
        CHOICE = "choice", _("choice")
        DATE = "date", _("date")
        NUMBER = "number", _("number")
        YES_NO = "yes_no", _("yes/no")
        FILE = "file", _("file")
        NATIONAL_ID = "national_id", _("national identity number")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    labels = models.JSONField(default=dict)
    helps = models.JSONField(default=dict, blank=True)
    choices = models.JSONField(default=list, blank=True)  # [{"value": ..., "labels": {...}}]
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["service", "key"], name="one_field_per_key")]

    def __str__(self):
        return self.key


class Answer(models.Model):
    """One answer of a request's form, kept on the case (structured, searchable)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="answers")
    key = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["key", "case"])]

    def __str__(self):
        return f"{self.key}={self.value[:20]}"


class PendingRequest(models.Model):
    """A request from someone without a login, kept until they confirm their email by the link sent to it; only
    then is a person found or made and the case opened."""

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="+")  # none:
    # an account only
    email = models.EmailField()
    name = models.CharField(max_length=200)
    language = models.CharField(max_length=5, default="nb")
    data = models.JSONField(default=dict)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"pending request {self.pk}"


class LoginLink(models.Model):
    """A one-time login by email; only the hash of the token is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"login link {self.pk}"


class Consent(models.Model):
    """Consent given or withdrawn, as a history: the latest row per person and kind is in force."""

    class Kind(models.TextChoices):
        NEWSLETTER = "newsletter", _("newsletters by email")
        SMS = "sms", _("news by text message")

    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    given = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=20, default="portal")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.kind}={self.given}"


class Article(models.Model):
    """A knowledge-base article: answers before asking."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")

    title = models.CharField(max_length=200)
    body = models.TextField()
    language = models.CharField(max_length=5, choices=settings.LANGUAGES)
    category = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    helped = models.PositiveIntegerField(default=0)  # "this answered my question"
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["state", "language"])]

    def __str__(self):
        return self.title


class ArticleWord(models.Model):
    """The search index of the knowledge base: each normalised word of an article's title and text, with its
    weight (title words count more). The same on SQLite and PostgreSQL."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=40)
    weight = models.PositiveSmallIntegerField(default=1)
    in_title = models.BooleanField(default=False)  # a title word: searched first, a few rows per article

    class Meta:
        indexes = [models.Index(fields=["word", "article"]), models.Index(fields=["in_title", "word", "article"],
                                                                          name="portal_word_title")]

    def __str__(self):
        return self.word


class Deflection(models.Model):
    """A person said an article answered their question (and so did not ask): counted per service and unit."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey("registry.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"deflected by {self.article_id}"


class Booking(models.Model):
    class State(models.TextChoices):
        BOOKED = "booked", _("booked")
        CANCELLED = "cancelled", _("cancelled")

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="bookings")
    state = models.CharField(max_length=10, choices=State.choices, default=State.BOOKED)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["service", "starts_at", "state"])]

    def __str__(self):
        return f"{self.service_id} {self.starts_at}"


class Rating(models.Model):
    """The one-question satisfaction rating after a case closes: once per case."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.case_id}: {self.score}"
