"""Documents kept once: content-addressed blobs, immutable versions, check-out and share links."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case
from tillit.core.models import ScopedQuerySet
from tillit.registry.models import Employer, OrgUnit, Person, employers_in_scope


class Blob(models.Model):
    """One stored file, named by the SHA-256 of its content: identical content is kept once."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100)
    stored_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.sha256


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("document category")
        verbose_name_plural = _("document categories")

    def __str__(self):
        return self.name


class DocumentQuerySet(ScopedQuerySet):
    def within_scope(self, user, scope, perm):
        """Documents linked to anything the user may see, and those of the units the user covers.

        Each link kind is one uncorrelated `id IN (...)` set (PostgreSQL hashes it once), not a probe
        per document: with a selective search the planner would otherwise re-run the person scope for
        every candidate document."""
        # A login without a grant (a member, a citizen) sees its own person, but that opens none of the documents
        # linked to it: self-service shows only the documents a handler chose to show (tillit.portal).
        q = Q(pk__in=[])
        if not scope.empty:
            links = Document.persons.through.objects.filter(
                person__in=Person.objects.visible_to(user, perm).values("pk"))
            q |= Q(pk__in=links.values("document_id"))
        links = Document.cases.through.objects.filter(case__in=Case.objects.visible_to(user, perm).values("pk"))
        q |= Q(pk__in=links.values("document_id"))
        links = Document.employers.through.objects.filter(employer__in=employers_in_scope(user, perm).values("pk"))
        q |= Q(pk__in=links.values("document_id"))
        org = scope.tree_q("org", "")
        if org is not None:
            q |= Q(responsible_unit_id__in=OrgUnit.objects.filter(org).values("pk"))
        return self.filter(q)

    def linked_to_visible(self, user, *, person=None, case=None):
        """The documents linked to a person or case that `user` was shown through `visible_to`: by the
        rule above (linked to anything the user may see) all of them are visible, without the cost
        of proving it again for every link kind."""
        from tillit.cases.models import Case as CaseModel
        from tillit.core.scopes import mark_shown, was_shown

        obj, model = (person, Person) if person is not None else (case, CaseModel)
        if not was_shown(user, obj):
            if not model.objects.visible_to(user).filter(pk=obj.pk).exists():
                return self.none()
            mark_shown(user, obj)
        return self.filter(**({"persons": obj} if person is not None else {"cases": obj}))


class Document(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT)
    responsible_unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT,
                                         related_name="documents")
    persons = models.ManyToManyField(Person, verbose_name=_("people"), blank=True, related_name="documents")
    cases = models.ManyToManyField(Case, verbose_name=_("cases"), blank=True, related_name="documents")
    employers = models.ManyToManyField(Employer, verbose_name=_("employers"), blank=True, related_name="documents")
    current = models.ForeignKey("DocumentVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_out_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="checked_out_documents")
    checked_out_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking of the metadata and the lock
    # PostgreSQL's full-text index (title, description, text of the latest version); SQLite has an FTS5 table.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        # The full-text indexes are made per database in migration 0002.
        indexes = [models.Index(fields=["responsible_unit", "-updated_at"]),
                   models.Index(fields=["-updated_at", "-id"], name="documents_newest")]

    def __str__(self):
        return self.title


class DocumentVersion(models.Model):
    """One upload. Never changed after it is written, except for the text extracted from it."""

    class Text(models.TextChoices):
        PENDING = "pending", _("waiting for text extraction")
        DONE = "done", _("text extracted")
        NONE = "none", _("no text in this kind of file")
        FAILED = "failed", _("text could not be read")

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="versions")
    filename = models.CharField(_("file name"), max_length=255)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    text_status = models.CharField(max_length=10, choices=Text.choices, default=Text.PENDING)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_once")]

    def __str__(self):
        return f"{self.document_id} v{self.number}"

    @property
    def size(self):
        return self.blob.size

    @property
    def sha256(self):
        return self.blob_id

    @property
    def media_type(self):
        return self.blob.media_type


class ShareLink(models.Model):
    """An external link to a document for someone without a login. Only the token's hash is kept."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="share_links")
    version = models.ForeignKey(DocumentVersion, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")  # pinned; empty = always the latest version
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    note = models.CharField(_("for whom"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    max_downloads = models.PositiveIntegerField(_("download limit"), null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.prefix}… ({self.document_id})"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.max_downloads is not None and self.downloads >= self.max_downloads:
            return "used up"
        return "active"


class ShareDownload(models.Model):
    """One download through an external link (or one refused attempt, with the reason)."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="download_log")
    at = models.DateTimeField(default=timezone.now)
    version = models.ForeignKey(DocumentVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=200, blank=True)
    refused = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.link_id} {self.at:%Y-%m-%d %H:%M} {self.refused or 'ok'}"
