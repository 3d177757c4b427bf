"""The shared kernel: tree nodes, grants, the audit trail, the access log and API tokens."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class ScopedQuerySet(models.QuerySet):
    """A queryset of personal data. `visible_to` is the one rule of access; each model says in
    `within_scope` what a non-empty, partial scope lets the user see."""

    def visible_to(self, user, perm: str = "view"):
        from tillit.core.scopes import scope_for

        if not user or not user.is_authenticated:
            return self.none()
        scope = scope_for(user, perm)
        if scope.everything:
            return self
        return self.within_scope(user, scope, perm)

    def within_scope(self, user, scope, perm):
        raise NotImplementedError


class Translated(models.Model):
    """A configured text (a type's name, a state, a transition) with its translations: {language: text}; the
    text as written is the fallback."""

    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def shown_name(self) -> str:
        from tillit.core.text import shown

        return shown(self.name, self.translations)


class User(AbstractUser):
    """A login. Linked to a registry Person through `Person.user` when the user is one."""

    # Set when someone else chose the password (a local administrator's temporary one): it opens one login, which
    # must choose a new password before anything else.
    must_change_password = models.BooleanField(default=False)

    class Meta:
        db_table = "core_user"


class TreeNode(MP_Node):
    """A node of one of the two trees; a subtree is one indexed prefix query on `path`."""

    name = models.CharField(_("name"), max_length=200)
    # No node_order_by: keeping siblings sorted rewrites paths on every insert; lists sort by name.

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def subtree_q(self, prefix: str = ""):
        """A Q matching this node and everything below it, through the `prefix` relation."""
        return models.Q(**{f"{prefix}path__startswith": self.path})


class Channel(models.TextChoices):
    UI = "ui", _("web interface")
    API = "api", _("API")
    IMPORT = "import", _("import")
    REP = "rep", _("representative")
    PORTAL = "portal", _("self-service")
    EMAIL = "email", _("email")
    LINK = "link", _("a link in a message")
    SYSTEM = "system", _("system")


class AuditEntry(models.Model):
    """One change to registry or case data: who, when, through which channel, from → to."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    # The person the change concerns, so the person page shows its history in one query.
    person_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person_id", "-at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self):
        return f"{self.action} {self.object_type}#{self.object_id}"


ACCESS_ACTIONS = {
    "person.view": _("opened the record"), "person.list": _("saw in a list"), "person.search": _("found in a search"),
    "person.export": _("exported"), "case.view": _("opened a case about the person"),
    "case.list": _("saw in a case list"), "case.timeline": _("read a case's timeline"),
    "document.view": _("opened a linked document"), "document.download": _("downloaded a linked document"),
    "membership.view": _("read a membership"), "membership.list": _("saw a membership in a list"),
    "employment.view": _("read an employment"), "employment.list": _("saw an employment in a list"),
    "role.view": _("read a role"), "role.list": _("saw a role in a list"),
}


class AccessLogEntry(models.Model):
    """One view or export of personal data by someone other than the person."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=40)  # person.view, person.export, ...
    person_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person_id", "-at"])]

    def __str__(self):
        return f"{self.action} by user {self.user_id}"

    @property
    def action_label(self) -> str:
        return str(ACCESS_ACTIONS.get(self.action, self.action))


class Grant(models.Model):
    """A user's role over one node of either tree; it covers the node's whole subtree."""

    class Tree(models.TextChoices):
        ORG = "org", _("organisation")
        EMPLOYER = "employer", _("employers")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=30)
    tree = models.CharField(max_length=10, choices=Tree.choices)
    node_id = models.BigIntegerField()
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    # Where the grant comes from: "" when given by an admin, "registry.role:<id>" for a rep's role.
    source = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "tree"]), models.Index(fields=["source"])]

    def __str__(self):
        return f"{self.role}@{self.tree}:{self.node_id}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token; the raw value is shown once, only its SHA-256 is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


SELF_SERVICE = "self_service"  # the logins without a grant: members and citizens in their own pages


class LoginRule(models.Model):
    """What a login holding `role` (or `self_service`) must show: a second factor; and, signing on through an
    identity provider, at least an assurance level (`acr`). Roles without a rule follow the defaults in
    settings (TILLIT_SECOND_FACTOR_ROLES)."""

    role = models.CharField(_("role"), max_length=30, unique=True)
    second_factor = models.BooleanField(_("second factor required"))
    min_acr = models.CharField(_("least assurance level (acr) through single sign-on"), max_length=200, blank=True)

    def __str__(self):
        return self.role


class Passkey(models.Model):
    """A passkey or security key (WebAuthn) of one login: the credential's id and public key, never a secret."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, as the browser gives it
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name


class SignOnLink(models.Model):
    """A login's identity at an identity provider: its issuer and the stable subject (`sub`) it gives."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_on_links")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_login_per_subject")]

    def __str__(self):
        return f"{self.issuer} {self.subject}"


class Submission(models.Model):
    """A form's one-time token, spent by the submission that saved something: the same form sent again (a second
    click, a resend after a slow answer) lands on what the first made instead of making it twice."""

    token = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    url = models.CharField(max_length=300, blank=True)  # where the first submission's answer is

    def __str__(self):
        return f"submission at {self.at}"


class Sequence(models.Model):
    """A named counter for numbers that are unique and never reused (member numbers, case numbers)."""

    name = models.CharField(max_length=60, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value}"


class WorkerBeat(models.Model):
    """A background worker's lease: renewed while it lives; its RUNNING tasks are taken back after it lapses."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    beat_at = models.DateTimeField(db_index=True)
    pid = models.IntegerField()
    host = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"{self.worker_id} at {self.beat_at}"


class Notification(models.Model):
    """Something a user should know about an object they work on (a case assigned to them, an answer on it).

    Only the object's type and id are kept: the page that lists notifications shows each object's title only
    if the user may still open it, and the email that batches them names kinds and case numbers, never content.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("assigned to me")
        ANSWERED = "answered", _("an answer on my case")
        TRANSFERRED = "transferred", _("a case moved to my unit")
        DEADLINE = "deadline", _("a deadline tomorrow")
        MENTIONED = "mentioned", _("I am mentioned in a note")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    # What makes it one notification: the timeline entry, or the case and the deadline day.
    key = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notify_once")]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread"),
                   models.Index(fields=["emailed_at", "created_at"], name="notification_to_email")]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.object_type}:{self.object_id}"


def default_email_kinds():
    return [Notification.Kind.ASSIGNED, Notification.Kind.ANSWERED, Notification.Kind.MENTIONED]


class NotificationSetting(models.Model):
    """Which kinds of notification a user also gets by email (in Tillit they always see them)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                primary_key=True)
    email_kinds = models.JSONField(default=default_email_kinds, blank=True)

    def __str__(self):
        return f"{self.user_id}: {self.email_kinds}"


class Job(models.Model):
    """Long work run by the worker (an import, a large export): its progress while it runs, its result after.

    `token` is the one-time value of the form that started it, so a second click starts nothing new."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    label = models.CharField(max_length=200, blank=True)  # what the user started, e.g. the file's name
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.done / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
