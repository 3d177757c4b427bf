"""Messages to and from the people cases are about, kept with their delivery status and attachments."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case, CaseType
from tillit.registry.models import Person


class MessageTemplate(models.Model):
    """Subject and body as Django templates, with `case` and `person` in the context."""

    case_type = models.ForeignKey(CaseType, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="message_templates")
    code = models.SlugField(max_length=40)
    language = models.CharField(max_length=5, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case_type", "code", "language"], name="template_once")]

    def __str__(self):
        return f"{self.code} ({self.language})"


class Message(models.Model):
    class Direction(models.TextChoices):
        OUT = "out", _("outgoing")
        IN = "in", _("incoming")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("being sent")
        UNCERTAIN = "uncertain", _("delivery not known")  # the sender died mid-send: resent only on request
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        RECEIVED = "received", _("received")

    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    address = models.CharField(max_length=254, blank=True)  # to (out) or from (in)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    raw_name = models.CharField(max_length=200, blank=True)  # the original RFC 822 bytes, in storage
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    problem = models.CharField(max_length=200, blank=True)  # why an incoming message went to intake
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "direction"])]

    def __str__(self):
        return f"{self.direction} {self.subject[:40]}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=200)

    def __str__(self):
        return self.filename
