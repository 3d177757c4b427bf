"""Document endpoints: thin, every read through Document.objects.visible_to, every write through
documents.services. Uploads are multipart (`file` plus form fields); downloads stream."""

import datetime
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tillit.api.registry import Message, Page
from tillit.api.types import Id, In, Line, PageNumber, PageSize, Query, Text, Version, form_text
from tillit.cases.models import Case
from tillit.core.errors import InvalidInput
from tillit.core.scopes import EDIT
from tillit.core.text import as_id
from tillit.documents import access, search, services
from tillit.documents.models import Document, ShareLink
from tillit.registry.models import Person, employers_in_scope, units_in_scope

router = Router(tags=["documents"])


class VersionOut(Schema):
    number: int
    filename: str
    size: int
    sha256: str
    media_type: str
    author: str | None
    created_at: datetime.datetime
    comment: str
    text_status: str
    download: str

    @staticmethod
    def resolve_author(obj):
        return obj.author.username if obj.author_id else None

    @staticmethod
    def resolve_download(obj):
        return reverse("api:document_version_download", kwargs={"document_id": obj.document_id,
                                                                "version_number": obj.number})


class LockOut(Schema):
    user: str
    since: datetime.datetime


class DocumentOut(Schema):
    id: int
    title: str
    description: str
    category: str | None
    responsible_unit_id: int
    person_ids: list[int]
    case_ids: list[int]
    employer_ids: list[int]
    latest: VersionOut | None
    checked_out: LockOut | None
    version: int
    updated_at: datetime.datetime
    snippet: str = ""


class DocumentPage(Page):
    items: list[DocumentOut]


def _out(document: Document, snippet: str = "") -> dict:
    lock = None
    if document.checked_out_by_id:
        lock = {"user": document.checked_out_by.username, "since": document.checked_out_at}
    return {"id": document.pk, "title": document.title, "description": document.description,
            "category": document.category.code if document.category_id else None,
            "responsible_unit_id": document.responsible_unit_id,
            "person_ids": [p.pk for p in document.persons.all()], "case_ids": [c.pk for c in document.cases.all()],
            "employer_ids": [e.pk for e in document.employers.all()], "latest": document.current,
            "checked_out": lock, "version": document.version, "updated_at": document.updated_at,
            "snippet": snippet.replace(search.START, "**").replace(search.STOP, "**")}


def _ids(text: str, field: str) -> list[int]:
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not all(as_id(p) for p in parts):
        raise InvalidInput(f"{field}: give ids separated by commas.", field_errors={field: ["Not a list of ids."]})
    return [as_id(p) for p in parts]


def _visible(qs, ids: list[int], field: str) -> list:
    found = list(qs.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput(f"{field}: not found.", field_errors={field: ["Not found."]})
    return found


@router.get("/documents", response=DocumentPage)
def list_documents(request, q: Query = "", category: Query = "", unit_id: Id | None = None,
                   person_id: Id | None = None, case_id: Id | None = None, employer_id: Id | None = None,
                   page: PageNumber = 1, page_size: PageSize = 25):
    docs = Document.objects.visible_to(request.user)
    if category:
        docs = docs.filter(category__code=category)
    for field, value in (("responsible_unit_id", unit_id), ("persons", person_id), ("cases", case_id),
                         ("employers", employer_id)):
        if value is not None:
            docs = docs.filter(**{field: value})
    docs = search.search(docs, q) if q.strip() else docs.order_by("-updated_at", "-pk")
    docs = docs.select_related("current__blob", "current__author", "category", "checked_out_by").prefetch_related(
        *access.link_prefetches(request.user))
    rows = list(docs[(page - 1) * page_size:page * page_size + 1])
    snippets = search.snippets([d.pk for d in rows[:page_size]], q) if q.strip() else {}
    return {"page": page, "has_next": len(rows) > page_size,
            "items": [_out(d, snippets.get(d.pk, "")) for d in rows[:page_size]]}


@router.get("/documents/{document_id}", response=DocumentOut)
def get_document(request, document_id: Id):
    document = access.document_for(request.user, document_id)
    access.log_document_access(request.user, document, "document.view", channel="api")
    return _out(document)


@router.post("/documents", response={201: DocumentOut, 422: Message})
def create_document(request, file: File[UploadedFile], unit_id: Form[int], title: Form[str] = "",
                    description: Form[str] = "", category: Form[str] = "", comment: Form[str] = "",
                    person_ids: Form[str] = "", case_ids: Form[str] = "", employer_ids: Form[str] = ""):
    form_text(title=title, category=category, person_ids=person_ids, case_ids=case_ids, employer_ids=employer_ids)
    form_text(multiline=True, description=description, comment=comment)
    units = {u.pk: u for u in units_in_scope(request.user, EDIT)}
    if unit_id not in units:
        raise InvalidInput("unit_id: not a unit you may add documents to.",
                           field_errors={"unit_id": ["Not a unit you may add documents to."]})
    document = services.create_document(
        file=file, filename=file.name, declared_type=file.content_type or "", unit=units[unit_id],
        actor=request.user, channel="api", title=title, description=description, category=category or None,
        comment=comment,
        persons=_visible(Person.objects.visible_to(request.user, EDIT), _ids(person_ids, "person_ids"), "person_ids"),
        cases=_visible(Case.objects.visible_to(request.user, EDIT), _ids(case_ids, "case_ids"), "case_ids"),
        employers=_visible(employers_in_scope(request.user, EDIT), _ids(employer_ids, "employer_ids"),
                           "employer_ids"))
    return Status(201, _out(access.document_for(request.user, document.pk)))


class DocumentPatch(In):
    version: Version
    title: Line | None = None
    description: Text | None = None
    category: Query | None = None


@router.patch("/documents/{document_id}", response={200: DocumentOut, 409: Message, 422: Message})
def update_document(request, document_id: Id, payload: DocumentPatch):
    document = access.document_for(request.user, document_id, EDIT)
    data = payload.dict(exclude_unset=True)
    expected = data.pop("version")
    if "category" in data and not data["category"]:
        data["category"] = None
    services.update_document(document, data, actor=request.user, expected_version=expected, channel="api")
    return _out(access.document_for(request.user, document_id))


@router.delete("/documents/{document_id}", response={204: None, 422: Message})
def delete_document(request, document_id: Id, reason: Line = ""):
    """Delete the document, every version and link, for good (a unit administrator's right; `?reason=`)."""
    document = access.document_for(request.user, document_id, EDIT)
    services.delete_document(document, actor=request.user, reason=reason, channel="api")
    return Status(204, None)


@router.get("/documents/{document_id}/versions", response=list[VersionOut])
def list_versions(request, document_id: Id):
    document = access.document_for(request.user, document_id)
    return list(document.versions.select_related("blob", "author"))


@router.post("/documents/{document_id}/versions", response={201: VersionOut, 409: Message, 422: Message})
def upload_version(request, document_id: Id, file: File[UploadedFile], base_version: Form[int],
                   comment: Form[str] = ""):
    form_text(multiline=True, comment=comment)
    document = access.document_for(request.user, document_id, EDIT)
    version = services.add_version(document, file=file, filename=file.name, declared_type=file.content_type or "",
                                   actor=request.user, base_version=base_version, comment=comment, channel="api")
    return Status(201, version)


@router.get("/documents/{document_id}/download", url_name="document_latest_download")
def download_latest(request, document_id: Id, inline: bool = False):
    """The permalink: always the latest version."""
    document = access.document_for(request.user, document_id)
    access.log_document_access(request.user, document, "document.download", channel="api",
                               version=document.current.number)
    return access.file_response(document.current, inline=inline)


@router.get("/documents/{document_id}/versions/{version_number}/download", url_name="document_version_download")
def download_version(request, document_id: Id, version_number: Version, inline: bool = False):
    document = access.document_for(request.user, document_id)
    version = access.version_of(document, version_number)
    access.log_document_access(request.user, document, "document.download", channel="api", version=version.number)
    return access.file_response(version, inline=inline)


@router.post("/documents/{document_id}/checkout", response={200: DocumentOut, 409: Message})
def checkout(request, document_id: Id):
    document = access.document_for(request.user, document_id, EDIT)
    services.check_out(document, actor=request.user, channel="api")
    return _out(access.document_for(request.user, document_id))


@router.post("/documents/{document_id}/checkin", response={200: DocumentOut, 409: Message, 422: Message})
def checkin(request, document_id: Id, file: File[UploadedFile] = None, base_version: Form[int | None] = None,
            comment: Form[str] = ""):
    form_text(multiline=True, comment=comment)
    document = access.document_for(request.user, document_id, EDIT)
    services.check_in(document, actor=request.user, channel="api", file=file, filename=file.name if file else "",
                      declared_type=(file.content_type or "") if file else "", base_version=base_version,
                      comment=comment)
    return _out(access.document_for(request.user, document_id))


class ReleaseIn(In):
    reason: Line = ""


@router.post("/documents/{document_id}/release", response={200: DocumentOut, 422: Message})
def release(request, document_id: Id, payload: ReleaseIn):
    """Force the release of someone else's check-out (a unit administrator's right; audited)."""
    document = access.document_for(request.user, document_id, EDIT)
    services.force_release(document, actor=request.user, reason=payload.reason, channel="api")
    return _out(access.document_for(request.user, document_id))


class LinkIn(In):
    kind: Literal["person", "case", "employer"]
    ref: Query


@router.post("/documents/{document_id}/links", response={200: DocumentOut, 422: Message})
def add_link(request, document_id: Id, payload: LinkIn):
    """Link to a person (member number, email or id), a case (number or id) or an employer (org number or id)."""
    document = access.document_for(request.user, document_id, EDIT)
    if payload.kind not in services.LINKS:
        raise InvalidInput("kind: person, case or employer.", field_errors={"kind": ["person, case or employer."]})
    services.link(document, access.resolve_link(request.user, payload.kind, payload.ref), actor=request.user,
                  channel="api")
    return _out(access.document_for(request.user, document_id))


class ShareLinkOut(Schema):
    id: int
    prefix: str
    note: str
    version: int | None
    expires_at: datetime.datetime
    max_downloads: int | None
    downloads: int
    state: str
    url: str | None = None

    @staticmethod
    def resolve_version(obj):
        return obj.version.number if obj.version_id else None

    @staticmethod
    def resolve_state(obj):
        return obj.state()


class ShareLinkIn(In):
    expires: datetime.date | None = None
    max_downloads: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    version: Version | None = None  # pin to this version; empty = always the latest
    note: Line = ""


@router.get("/documents/{document_id}/share-links", response=list[ShareLinkOut])
def list_share_links(request, document_id: Id):
    document = access.document_for(request.user, document_id, EDIT)
    return list(document.share_links.select_related("version"))


@router.post("/documents/{document_id}/share-links", response={201: ShareLinkOut, 422: Message})
def create_share_link(request, document_id: Id, payload: ShareLinkIn):
    """The response's `url` holds the token; it is shown this once and only its hash is kept."""
    document = access.document_for(request.user, document_id, EDIT)
    version = access.version_of(document, payload.version) if payload.version is not None else None
    link, raw = services.create_share_link(document, actor=request.user, expires=payload.expires,
                                           max_downloads=payload.max_downloads, version=version, note=payload.note,
                                           channel="api")
    link.url = request.build_absolute_uri(reverse("shared", args=[raw]))
    return Status(201, link)


@router.delete("/documents/{document_id}/share-links/{link_id}", response=ShareLinkOut)
def revoke_share_link(request, document_id: Id, link_id: Id):
    document = access.document_for(request.user, document_id, EDIT)
    link = get_object_or_404(ShareLink.objects.select_related("version", "document"), pk=link_id, document=document)
    return services.revoke_share_link(link, actor=request.user, channel="api")

