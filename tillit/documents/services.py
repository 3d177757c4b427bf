"""Every change to a document: checked, audited, conflict-safe. The UI and the API both call these.

Rules: versions are immutable; a new version must be made from the latest one (the uploader names the
version they started from); while a document is checked out only the holder may add a version; a
unit's administrators may force a release, which is audited.
"""

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.cases.models import Case, CaseEvent
from tillit.cases.services import record_event
from tillit.core import audit
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.models import hash_token
from tillit.core.policy import require
from tillit.core.services import save_versioned
from tillit.core.tasks import enqueue_on_commit
from tillit.core.text import as_id
from tillit.documents import files
from tillit.documents.access import may_add_document, may_change_document, may_link, may_release
from tillit.documents.models import Category, Document, DocumentVersion, ShareDownload, ShareLink
from tillit.documents.search import index_documents
from tillit.documents.text import extract_text
from tillit.registry.erasure import scrub_audit, scrub_rows
from tillit.registry.models import Employer, OrgUnit, Person
from tillit.registry.validation import Errors


def _audit(document, action, *, actor, channel, changes=None):
    audit.record(f"documents.document.{action}", document, actor=actor, channel=channel, changes=changes or {})


def _case_event(case, document, *, actor, what: str, **data):

    record_event(case, CaseEvent.Kind.DOCUMENT, actor=actor, data={"document": document.pk, "title": document.title,
                                                                     "what": what, **data})


def _after_commit_extract(version):

    enqueue_on_commit(extract_text, version.pk)


def _user_label(user) -> str:
    return (user.get_full_name() or user.username) if user else "–"


def _validated_metadata(data: dict, errors: Errors) -> dict:
    out = {}
    if "title" in data:
        title = (data.get("title") or "").strip()
        if not title:
            errors.add("title", _("This field is required."))
        elif len(title) > 200:
            errors.add("title", _("At most 200 characters."))
        out["title"] = title
    if "description" in data:
        out["description"] = (data.get("description") or "").strip()
    if "category" in data:
        category = data.get("category")
        if category is not None and not isinstance(category, Category):
            category = Category.objects.filter(pk=as_id(category), active=True).first() if as_id(category) else (
                Category.objects.filter(code=category, active=True).first())
            if category is None:
                errors.add("category", _("No such category."))
        out["category"] = category
    return out


def _add_version(document, incoming: files.Incoming, *, actor, comment: str) -> DocumentVersion:
    blob = files.store(incoming)
    number = (document.current.number if document.current_id else 0) + 1
    version = DocumentVersion.objects.create(document=document, number=number, blob=blob, filename=incoming.filename,
                                             comment=(comment or "").strip()[:500],
                                             author=actor if getattr(actor, "pk", None) else None)
    document.current = version
    _after_commit_extract(version)
    return version


@transaction.atomic
def create_document(*, file, filename: str, unit: OrgUnit, actor, channel: str = "ui", title: str = "",
                    description: str = "", category=None, comment: str = "", declared_type: str = "",
                    persons=(), cases=(), employers=(), enforce_types: bool = True) -> Document:
    """A new document with its first version, linked to the given people, cases and employers."""
    if _person(actor, channel):

        _require(may_add_document(actor, unit, persons=persons, cases=cases, employers=employers))
    errors = Errors()
    meta = _validated_metadata({"title": title or files.sanitise_filename(filename).rsplit(".", 1)[0],
                                "description": description, "category": category}, errors)
    if unit is None:
        errors.add("unit", _("This field is required."))
    incoming = files.Incoming(file, filename, declared_type)
    try:
        incoming.check(enforce_types=enforce_types)
    except InvalidInput as exc:
        if not errors.by_field:
            raise
        for field, messages in exc.field_errors.items():
            for message in messages:
                errors.add(field, message)
    errors.raise_if_any()
    document = Document.objects.create(responsible_unit=unit, created_by=actor if getattr(actor, "pk", None) else None,
                                       **meta)
    version = _add_version(document, incoming, actor=actor, comment=comment)
    document.save(update_fields=["current"])
    document.persons.add(*persons)
    document.employers.add(*employers)
    _audit(document, "create", actor=actor, channel=channel, changes={
        **audit.snapshot(document, ["title", "description", "category_id", "responsible_unit_id"]),
        "version": [None, {"number": 1, "sha256": version.blob_id, "size": incoming.size,
                           "media_type": incoming.media_type}],
        "persons": [None, [p.pk for p in persons]], "cases": [None, [c.pk for c in cases]],
        "employers": [None, [e.pk for e in employers]]})
    for case in cases:
        document.cases.add(case)
        _case_event(case, document, actor=actor, what="added")
    index_documents([document.pk])
    return document


def _locked(document) -> Document:
    """The document's row, locked for this transaction. Its version and holder are read after the lock
    (lazily): joined in the locking query they could come back empty when a concurrent upload just
    committed (PostgreSQL re-reads only the locked row)."""
    return Document.objects.select_for_update().get(pk=document.pk)


def _refuse_if_held_by_other(document, actor):
    holder = document.checked_out_by
    if holder is not None and holder.pk != getattr(actor, "pk", None):
        raise ConflictError(_("%(user)s has checked this document out since %(since)s; only they can add a new "
                              "version until it is checked in.") % {
            "user": _user_label(holder),
            "since": timezone.localtime(document.checked_out_at).strftime("%Y-%m-%d %H:%M")},
            field_errors={"file": [_("The document is checked out by someone else.")]})


def _refuse_if_stale(document, base_version):
    latest = document.current
    if base_version is None:
        raise InvalidInput(_("Say which version the new one is made from."),
                           field_errors={"base_version": [_("This field is required.")]})
    if latest is not None and int(base_version) != latest.number:
        raise ConflictError(_("Version %(base)s is no longer the latest: %(user)s added version %(n)s at %(at)s. "
                              "Download version %(n)s, make your changes there and upload again.") % {
            "base": base_version, "n": latest.number, "user": _user_label(latest.author),
            "at": timezone.localtime(latest.created_at).strftime("%Y-%m-%d %H:%M")},
            field_errors={"base_version": [_("Not the latest version.")]})


@transaction.atomic
def add_version(document: Document, *, file, filename: str, actor, base_version, comment: str = "",
                channel: str = "ui", declared_type: str = "", release: bool = False) -> DocumentVersion:
    """Upload a new version made from `base_version`. Refused while someone else holds the check-out."""
    if _person(actor, channel):
        _require(_may_change(actor, document))
    document = _locked(document)
    _refuse_if_held_by_other(document, actor)
    _refuse_if_stale(document, base_version)
    incoming = files.Incoming(file, filename, declared_type).check()
    version = _add_version(document, incoming, actor=actor, comment=comment)
    document.updated_at = timezone.now()
    fields = ["current", "updated_at"]
    if release and document.checked_out_by_id:
        document.checked_out_by, document.checked_out_at = None, None
        fields += ["checked_out_by", "checked_out_at"]
    Document.objects.filter(pk=document.pk).update(**{f: getattr(document, f) for f in fields})
    _audit(document, "version", actor=actor, channel=channel, changes={"version": [
        base_version, {"number": version.number, "sha256": version.blob_id, "size": incoming.size,
                       "media_type": incoming.media_type, "comment": version.comment}]})
    for case in document.cases.all():
        _case_event(case, document, actor=actor, what="version", number=version.number)
    index_documents([document.pk])
    return version


@transaction.atomic
def check_out(document: Document, *, actor, channel: str = "ui") -> Document:
    if _person(actor, channel):
        _require(_may_change(actor, document))
    document = _locked(document)
    if document.checked_out_by_id == actor.pk:
        return document
    if document.checked_out_by_id:
        raise ConflictError(_("%(user)s has already checked this document out (since %(since)s).") % {
            "user": _user_label(document.checked_out_by),
            "since": timezone.localtime(document.checked_out_at).strftime("%Y-%m-%d %H:%M")})
    document.checked_out_by, document.checked_out_at = actor, timezone.now()
    Document.objects.filter(pk=document.pk).update(checked_out_by=actor, checked_out_at=document.checked_out_at)
    _audit(document, "check_out", actor=actor, channel=channel, changes={"checked_out_by": [None, actor.pk]})
    return document


@transaction.atomic
def check_in(document: Document, *, actor, channel: str = "ui", file=None, filename: str = "", base_version=None,
             comment: str = "", declared_type: str = "") -> Document:
    """Release the holder's check-out, with or without a new version."""
    if _person(actor, channel):
        _require(_may_change(actor, document))
    document = _locked(document)
    if document.checked_out_by_id != actor.pk:
        raise DomainError(_("Only the person who checked the document out can check it in."))
    if file is not None:
        add_version(document, file=file, filename=filename, actor=actor, base_version=base_version, comment=comment,
                    channel=channel, declared_type=declared_type, release=True)
    else:
        Document.objects.filter(pk=document.pk).update(checked_out_by=None, checked_out_at=None)
    _audit(document, "check_in", actor=actor, channel=channel, changes={"checked_out_by": [actor.pk, None]})
    return _locked(document)


def may_force_release(user, document) -> bool:

    return may_release(user, document)


def _may_change(actor, document) -> bool:

    return may_change_document(actor, document)


def _may_link(actor, obj) -> bool:

    kind = next(k for k, (_f, model) in LINKS.items() if isinstance(obj, model))
    return may_link(actor, **{LINKS[kind][0]: [obj]})


def _require(allowed: bool) -> None:
    require(allowed, _("You cannot change this document."))


def _person(actor, channel) -> bool:
    """Whether a person's right is checked: the system (no actor) and the portal's own steps (its gate decided) pass."""
    return bool(getattr(actor, "pk", None)) and channel != "portal"


@transaction.atomic
def force_release(document: Document, *, actor, reason: str = "", channel: str = "ui") -> Document:
    """Break someone's check-out (a unit administrator's right); audited with whose it was and why."""
    document = _locked(document)
    require(may_force_release(actor, document),
            _("Only an administrator of the document's unit can release someone else's check-out."))
    if not document.checked_out_by_id:
        raise DomainError(_("The document is not checked out."))
    holder = document.checked_out_by_id
    Document.objects.filter(pk=document.pk).update(checked_out_by=None, checked_out_at=None)
    _audit(document, "force_release", actor=actor, channel=channel,
           changes={"checked_out_by": [holder, None], "reason": [None, reason.strip()[:300]]})
    return _locked(document)


@transaction.atomic
def update_document(document: Document, data: dict, *, actor, expected_version=None, channel: str = "ui") -> Document:
    if _person(actor, channel):
        _require(_may_change(actor, document))
    errors = Errors()
    values = _validated_metadata(data, errors)
    errors.raise_if_any()
    changes = audit.diff(document, values)  # sets the new values on `document`
    save_versioned(document, changes, expected_version)
    if not changes:
        return document
    _audit(document, "update", actor=actor, channel=channel, changes=changes)
    index_documents([document.pk])
    return document


@transaction.atomic
def delete_document(document: Document, *, actor, reason: str, channel: str = "ui") -> None:
    """Remove a document, every version and link, for good (a file filed on the wrong person, an
    erasure): a unit administrator's right. The audit trail keeps what it was (title, versions with
    their SHA-256), not the content. Stored files no other version or message uses are deleted."""
    document = _locked(document)
    require(may_force_release(actor, document), _("Only an administrator of the document's unit can delete it."))
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the document is deleted."),
                           field_errors={"reason": [_("This field is required.")]})
    versions = list(document.versions.select_related("blob").order_by("number"))
    _audit(document, "delete", actor=actor, channel=channel, changes={
        "title": [document.title, None], "reason": [None, reason.strip()[:300]],
        "versions": [[{"number": v.number, "sha256": v.blob_id, "size": v.blob.size} for v in versions], None],
        "persons": [list(document.persons.values_list("pk", flat=True)), None],
        "cases": [list(document.cases.values_list("pk", flat=True)), None]})
    for case in document.cases.all():
        _case_event(case, document, actor=actor, what="deleted")
    Document.objects.filter(pk=document.pk).update(current=None)
    document.share_links.all().delete()
    DocumentVersion.objects.filter(document=document).delete()
    document.persons.clear()
    document.cases.clear()
    document.employers.clear()
    Document.objects.filter(pk=document.pk).delete()
    index_documents([document.pk])
    blobs = {v.blob for v in versions}
    transaction.on_commit(lambda: files.forget_unused(blobs))


LINKS = {"person": ("persons", Person), "case": ("cases", Case), "employer": ("employers", Employer)}


@transaction.atomic
def link(document: Document, obj, *, actor, channel: str = "ui") -> None:
    """Link the document to a person, case or employer (a link, never a copy)."""
    if _person(actor, channel):
        _require(_may_change(actor, document) and _may_link(actor, obj))
    kind = next(k for k, (_f, model) in LINKS.items() if isinstance(obj, model))
    relation = getattr(document, LINKS[kind][0])
    if relation.filter(pk=obj.pk).exists():
        return
    relation.add(obj)
    _audit(document, "link", actor=actor, channel=channel, changes={kind: [None, obj.pk]})
    if kind == "case":
        _case_event(obj, document, actor=actor, what="added")


@transaction.atomic
def unlink(document: Document, obj, *, actor, channel: str = "ui") -> None:
    if _person(actor, channel):
        _require(_may_change(actor, document) and _may_link(actor, obj))
    kind = next(k for k, (_f, model) in LINKS.items() if isinstance(obj, model))
    getattr(document, LINKS[kind][0]).remove(obj)
    _audit(document, "unlink", actor=actor, channel=channel, changes={kind: [obj.pk, None]})
    if kind == "case":
        _case_event(obj, document, actor=actor, what="removed")


# --- external share links ---------------------------------------------------------------------

def _parse_expiry(value) -> datetime.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now + datetime.timedelta(days=settings.TILLIT_SHARE_LINK_DAYS)
    if isinstance(value, datetime.datetime):
        expires = value if timezone.is_aware(value) else timezone.make_aware(value)
    else:
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise InvalidInput(_("Give the expiry as a date (YYYY-MM-DD)."),
                                   field_errors={"expires": [_("Not a date.")]}) from exc
        # A date means: usable through that whole day.
        expires = timezone.make_aware(datetime.datetime.combine(value, datetime.time(23, 59, 59)))
    if expires <= now:
        raise InvalidInput(_("The expiry must be in the future."), field_errors={"expires": [_("Already passed.")]})
    if expires > now + datetime.timedelta(days=settings.TILLIT_SHARE_LINK_MAX_DAYS + 1):
        days = settings.TILLIT_SHARE_LINK_MAX_DAYS
        raise InvalidInput(_("A link can be valid for at most %(n)d days.") % {"n": days},
                           field_errors={"expires": [_("Too far ahead.")]})
    return expires


@transaction.atomic
def create_share_link(document: Document, *, actor, expires=None, max_downloads=None, version=None, note: str = "",
                      channel: str = "ui") -> tuple[ShareLink, str]:
    """A new external link; the raw token is returned once and only its hash is kept."""
    if _person(actor, channel):
        _require(_may_change(actor, document))
    expires_at = _parse_expiry(expires)
    if max_downloads not in (None, ""):
        try:
            max_downloads = int(max_downloads)
        except (TypeError, ValueError):
            max_downloads = 0
        if max_downloads < 1:
            raise InvalidInput(_("The download limit must be a whole number of at least 1."),
                               field_errors={"max_downloads": [_("At least 1.")]})
    else:
        max_downloads = None
    if version is not None and version.document_id != document.pk:
        raise InvalidInput(_("No such version."), field_errors={"version": [_("No such version.")]})
    raw = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(document=document, version=version, token_hash=hash_token(raw), prefix=raw[:6],
                                    note=(note or "").strip()[:200], expires_at=expires_at,
                                    max_downloads=max_downloads, created_by=actor)
    _audit(document, "share_link", actor=actor, channel=channel, changes={"share_link": [None, {
        "id": link.pk, "expires_at": expires_at.isoformat(), "max_downloads": max_downloads,
        "version": version.number if version else None}]})
    return link, raw


@transaction.atomic
def revoke_share_link(link: ShareLink, *, actor, channel: str = "ui") -> ShareLink:
    if _person(actor, channel):
        _require(_may_change(actor, link.document))
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        _audit(link.document, "revoke_share_link", actor=actor, channel=channel,
               changes={"share_link": [link.pk, None]})
    return link


class LinkRefused(DomainError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def use_share_link(raw: str, *, address=None, user_agent: str = "") -> DocumentVersion:
    """The version an external link gives, counting the download; every use and refusal is logged."""
    link = ShareLink.objects.select_related("document", "version").filter(token_hash=hash_token(raw or "")).first()
    if link is None:
        raise LinkRefused("unknown")
    now = timezone.now()
    reason = link.state(now)
    if reason == "active":
        # The check and the count are one UPDATE: two simultaneous downloads cannot pass a limit of one.
        counted = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True, expires_at__gt=now).filter(
            Q(max_downloads__isnull=True) | Q(downloads__lt=F("max_downloads"))).update(downloads=F("downloads") + 1)
        if counted != 1:
            reason = "used up"
    version = link.version or link.document.current
    ShareDownload.objects.create(link=link, version=version if reason == "active" else None, address=address,
                                 user_agent=(user_agent or "")[:200], refused="" if reason == "active" else reason)
    if reason != "active":
        raise LinkRefused(reason)
    return DocumentVersion.objects.select_related("blob", "document").get(pk=version.pk)


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): the documents of the person and of their cases lose the person's values from
    their titles, descriptions, file names and extracted text; the search index is rebuilt for them."""


    ids = list(Document.objects.filter(Q(persons=person) | Q(cases__subjects=person)).values_list(
        "pk", flat=True).distinct())
    scrub_rows(Document.objects.filter(pk__in=ids), ["title", "description"], scrub)
    scrub_rows(DocumentVersion.objects.filter(document_id__in=ids), ["filename", "comment", "text"], scrub)
    scrub_audit(Document, ids, scrub)
    index_documents(ids)
