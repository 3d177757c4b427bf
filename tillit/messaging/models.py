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
    # Templates for messages to a selection of members (not tied to a case); a statutory notice (a union's
    # notice of a general meeting, a ballot) goes also to those who opted out of reps' messages.
    for_selection = models.BooleanField(default=False)
    statutory = models.BooleanField(default=False)

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
        BOUNCED = "bounced", _("bounced")  # accepted, then returned by the recipient's server
        FAILED = "failed", _("failed")
        RECEIVED = "received", _("received")

    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    mailing = models.ForeignKey("Mailing", null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
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


class Mailing(models.Model):
    """One message to a selection of people (a rep's or member service's member list): who sent what to whom, and
    how delivery went. The recipients are fixed when it is sent; their rows carry the status per person."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("text message")

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        DONE = "done", _("sent")

    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(max_length=200, blank=True)  # without a template: one text for everyone
    body = models.TextField(blank=True)
    statutory = models.BooleanField(default=False)
    keep_text = models.BooleanField(default=True)  # whether the text is shown on each recipient's person page
    selection = models.JSONField(default=dict)  # where the recipients came from: the list and its filters
    base_url = models.CharField(max_length=300, blank=True)  # for the unsubscribe links
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"mailing {self.pk}"

    @property
    def title(self) -> str:
        return self.subject or (self.template.subject if self.template_id else "")


class Recipient(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        BOUNCED = "bounced", _("bounced")
        FAILED = "failed", _("failed")
        OPTED_OUT = "opted_out", _("opted out")
        NO_ADDRESS = "no_address", _("no address")

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=5, default="nb")
    merge = models.JSONField(default=dict)  # the merge fields' values, as the list showed them
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=300, blank=True)
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipient")
    reference = models.CharField(max_length=100, blank=True)  # the SMS provider's
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["mailing", "person"], name="one_recipient_row_per_person")]
        indexes = [models.Index(fields=["mailing", "status"])]

    def __str__(self):
        return f"{self.person_id}: {self.status}"


class OptOut(models.Model):
    """A person who asked (by the link in a message) to get no more messages from reps; statutory notices still
    go out."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="opt_out")
    at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=20, default="link")

    def __str__(self):
        return f"{self.person_id} opted out"
