"""Who may add, change and release documents; looking documents up for a user, streaming them out, and resolving
what a user links them to."""

import base64

from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tillit.cases.models import Case
from tillit.core.audit import log_access
from tillit.core.errors import InvalidInput
from tillit.core.policy import declare
from tillit.core.scopes import EDIT, MANAGE_GRANTS, VIEW, mark_shown, scope_for, was_shown
from tillit.core.text import as_id
from tillit.documents import files
from tillit.documents.models import Document, DocumentVersion
from tillit.registry.models import Person, employers_in_scope

BLOCK = 1024 * 1024

ADD = declare("documents.add", gettext_lazy("File a document in a unit, linked to people, cases and employers"),
              EDIT, note=gettext_lazy("each link to something the actor may change"))
CHANGE = declare("documents.change", gettext_lazy(
    "Change a document: new versions, check-out and check-in, links, share links"), EDIT)
RELEASE = declare("documents.release", gettext_lazy("Release someone else's check-out, delete a document"),
                  MANAGE_GRANTS)


def may_link(user, *, persons=(), cases=(), employers=()) -> bool:
    """EDIT over every person, case and employer a document is linked to (or unlinked from)."""
    for found, objects in ((Person.objects.visible_to(user, EDIT), persons),
                           (Case.objects.visible_to(user, EDIT), cases), (employers_in_scope(user, EDIT), employers)):
        ids = {o.pk for o in objects}
        if ids and found.filter(pk__in=ids).count() != len(ids):
            return False
    return True


def may_add_document(user, unit, *, persons=(), cases=(), employers=()) -> bool:
    """EDIT over the unit, and over everything the new document is linked to."""
    return (unit is not None and scope_for(user, EDIT).covers_node("org", unit.path)
            and may_link(user, persons=persons, cases=cases, employers=employers))


def may_change_document(user, document) -> bool:
    """EDIT over the document (remembered for the request: a page asks for each of its buttons)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if was_shown(user, document, EDIT):
        return True
    found = Document.objects.visible_to(user, EDIT).filter(pk=document.pk).exists()
    if found:
        mark_shown(user, document, EDIT)
    return found


def may_release(user, document) -> bool:
    """A grant to look after the users and access of the document's unit (an administrator of it)."""
    return scope_for(user, MANAGE_GRANTS).covers_node("org", document.responsible_unit.path)


def link_prefetches(user) -> tuple:
    """A document's people, cases and employers as far as `user` may see them: a link never shows the reader
    someone (or something) outside their scope."""
    return (Prefetch("persons", queryset=Person.objects.visible_to(user)),
            Prefetch("cases", queryset=Case.objects.visible_to(user)),
            Prefetch("employers", queryset=employers_in_scope(user)))


def document_for(user, pk, perm: str = VIEW) -> Document:
    """The document if the user may see (or change) it, with the links the user may see; 404 otherwise."""
    return get_object_or_404(Document.objects.visible_to(user, perm).select_related(
        "current__blob", "category", "responsible_unit", "checked_out_by").prefetch_related(
        *link_prefetches(user)), pk=pk)


def version_of(document: Document, number=None) -> DocumentVersion:
    if number is None:
        if document.current is None:
            raise Http404
        return document.current
    return get_object_or_404(DocumentVersion.objects.select_related("blob"), document=document, number=number)


def log_document_access(user, document: Document, action: str, *, channel: str, **detail) -> None:
    """A view or download of a document is a view of the people it is linked to."""
    people = list(document.persons.values_list("pk", "user_id"))
    for person_id, person_user in people:
        if person_user is None or person_user != getattr(user, "pk", None):  # not a person's view of themselves
            log_access(user, action, channel=channel, person_id=person_id, detail={"document": document.pk, **detail})


def file_response(version: DocumentVersion, *, inline: bool = False) -> FileResponse:
    """Stream one version from storage. Anything a browser could run is sent as an attachment."""
    blob = version.blob
    inline = inline and blob.media_type in files.INLINE_TYPES
    response = FileResponse(files.open_blob(blob), as_attachment=not inline, filename=version.filename,
                            content_type=blob.media_type)
    response.block_size = BLOCK
    response["Content-Length"] = str(blob.size)
    response["X-Content-Type-Options"] = "nosniff"
    policy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
    response["Content-Security-Policy"] = policy + ("; sandbox" if blob.media_type.startswith("image/") else "")
    response["Cache-Control"] = "private, no-cache"
    response["Repr-Digest"] = "sha-256=:" + base64.b64encode(bytes.fromhex(blob.sha256)).decode() + ":"
    response["ETag"] = f'"{blob.sha256}"'
    return response


def resolve_link(user, kind: str, ref: str):
    """The person, case or employer a user names (member number, email, case number, org number or id),
    among those the user may change; a clear message naming the field if there is none."""
    ref = (ref or "").strip()
    found = None
    if kind == "person":
        people = Person.objects.visible_to(user, EDIT).current()
        q = Q(memberships__member_number=ref) | Q(email__iexact=ref)
        if as_id(ref) and len(ref) < 11:
            q |= Q(pk=as_id(ref))
        found = people.filter(q).distinct().first() if ref else None
    elif kind == "case":
        cases = Case.objects.visible_to(user, EDIT)
        found = cases.filter(Q(number=ref) | (Q(pk=as_id(ref)) if as_id(ref) else Q(pk=None))).first()
    elif kind == "employer":
        employers = employers_in_scope(user, EDIT)
        found = employers.filter(Q(org_number=ref.replace(" ", "")) | (Q(pk=as_id(ref)) if as_id(ref)
                                                                         else Q(pk=None))).first()
    if found is None:
        raise InvalidInput(_("Nothing found for “%(ref)s” among what you may change.") % {"ref": ref},
                           field_errors={"ref": [_("Not found.")]})
    return found
