"""Staff UI for documents: the archive with search, the document page, uploads, check-out and share links."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.cases.models import Case
from tillit.core.errors import DomainError
from tillit.core.forms import add_domain_errors
from tillit.core.scopes import EDIT
from tillit.core.text import as_id, as_page, as_version
from tillit.documents import access, search, services
from tillit.documents.forms import CheckInForm, EditForm, LinkForm, NewDocumentForm, ShareForm, VersionForm
from tillit.documents.models import Category, Document, ShareDownload, ShareLink
from tillit.registry.models import Person, employers_in_scope, units_in_scope

PAGE = 25


def _too_large(request) -> bool:
    """Refuse an over-size upload before reading it (a little room for the form's other fields)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.TILLIT_DOCUMENT_MAX_BYTES + 64 * 1024


def _too_large_message():
    return _("The file is larger than the limit of %(limit)s.") % {
        "limit": filesizeformat(settings.TILLIT_DOCUMENT_MAX_BYTES)}


@login_required
def document_list(request):
    docs = Document.objects.visible_to(request.user)
    q = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    if as_id(category):
        docs = docs.filter(category_id=as_id(category))
    unit = request.GET.get("unit", "")
    if as_id(unit):
        docs = docs.filter(responsible_unit_id=as_id(unit))
    docs = search.search(docs, q) if q else docs.order_by("-updated_at", "-pk")
    docs = docs.select_related("current__blob", "category", "responsible_unit", "checked_out_by")
    page = as_page(request.GET.get("page"))
    rows = list(docs[(page - 1) * PAGE:page * PAGE + 1])
    found = search.snippets([d.pk for d in rows[:PAGE]], q) if q else {}
    for doc in rows:
        doc.snippet = found.get(doc.pk, "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "documents/list.html", {
        "rows": rows[:PAGE], "has_next": len(rows) > PAGE, "page": page, "q": q, "category": category, "unit": unit,
        "categories": Category.objects.filter(active=True), "units": units_in_scope(request.user),
        "query": query.urlencode(), "can_add": bool(units_in_scope(request.user, EDIT))})


def _links_from_request(request):
    """The person, case and employer a new document starts linked to (?person=, ?case=, ?employer=)."""
    data = request.POST if request.method == "POST" else request.GET
    links = {"persons": [], "cases": [], "employers": []}
    if as_id(data.get("person")):
        links["persons"].append(get_object_or_404(Person.objects.visible_to(request.user, EDIT),
                                                  pk=as_id(data["person"])))
    if as_id(data.get("case")):
        links["cases"].append(get_object_or_404(Case.objects.visible_to(request.user, EDIT), pk=as_id(data["case"])))
    if as_id(data.get("employer")):
        links["employers"].append(get_object_or_404(employers_in_scope(request.user, EDIT),
                                                    pk=as_id(data["employer"])))
    return links


def _unit_of_links(links):
    """Where a document added by someone without an org unit of their own (a rep) belongs: the unit
    of the case, the member's branch, or the workplace's region. They see it through the link."""
    if links["cases"]:
        return links["cases"][0].responsible_unit
    for person in links["persons"]:
        membership = person.memberships.select_related("branch").order_by("-joined_on").first()
        if membership or person.unit_id:
            return membership.branch if membership else person.unit
    for employer in links["employers"]:
        if employer.region_id:
            return employer.region
    return None


@login_required
def document_new(request):
    units = units_in_scope(request.user, EDIT)
    links = _links_from_request(request)
    if not units:
        unit = _unit_of_links(links)
        if unit is None:
            raise Http404
        units = [unit]
    preferred = links["cases"][0].responsible_unit if links["cases"] else None
    if request.method == "POST" and _too_large(request):
        messages.error(request, _too_large_message())
        return redirect(request.get_full_path())
    form = NewDocumentForm(request.POST or None, request.FILES or None,
                           initial={"unit": preferred.pk if preferred in units else units[0].pk})
    form.fields["unit"].choices = [(u.pk, u.name) for u in units]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        upload = d["file"]
        try:
            document = services.create_document(
                file=upload, filename=upload.name, declared_type=upload.content_type or "",
                unit=next(u for u in units if str(u.pk) == d["unit"]), actor=request.user, title=d["title"],
                description=d["description"], category=d["category"], comment=d["comment"], **links)
            messages.success(request, _("The document is saved."))
            return redirect("document", pk=document.pk)
        except DomainError as exc:
            add_domain_errors(form, exc)
    return render(request, "documents/new.html", {"form": form, "links": links})


@login_required
def document_detail(request, pk):
    document = access.document_for(request.user, pk)
    can_edit = Document.objects.visible_to(request.user, EDIT).filter(pk=document.pk).exists()
    access.log_document_access(request.user, document, "document.view", channel="ui")
    holder = document.checked_out_by
    held_by_me = holder is not None and holder.pk == request.user.pk
    base = {"base_version": document.current.number if document.current else 0}
    links = list(document.share_links.select_related("version", "created_by")) if can_edit else []
    now = timezone.now()
    for share in links:
        share.status = share.state(now)
    new_link = request.session.pop(f"document_share_{document.pk}", None)
    return render(request, "documents/document.html", {
        "document": document, "versions": list(document.versions.select_related("blob", "author")),
        "persons": document.persons.all(), "cases": document.cases.all(), "employers": document.employers.all(),
        "can_edit": can_edit, "held_by_me": held_by_me,
        "may_upload": can_edit and (holder is None or held_by_me),
        "may_release": holder is not None and not held_by_me and services.may_force_release(request.user, document),
        "may_delete": can_edit and services.may_force_release(request.user, document),
        "version_form": VersionForm(initial=base), "checkin_form": CheckInForm(initial=base),
        "edit_form": EditForm(initial={"title": document.title, "description": document.description,
                                       "category": document.category_id, "version": document.version}),
        "share_form": ShareForm(), "link_form": LinkForm(), "share_links": links, "new_link": new_link,
        "downloads": list(ShareDownload.objects.filter(link__document=document).select_related(
            "link", "version")[:50]) if can_edit else [],
        "preview": document.current and document.current.blob.media_type in access.files.INLINE_TYPES,
    })


@login_required
def document_download(request, pk, number=None):
    """The permalink: the latest version, or the numbered one. ?inline=1 previews images and PDFs."""
    document = access.document_for(request.user, pk)
    version = access.version_of(document, number)
    access.log_document_access(request.user, document, "document.download", channel="ui", version=version.number)
    return access.file_response(version, inline=request.GET.get("inline") == "1")


def _act(request, pk, action, perm=EDIT, anchor=""):
    """Run one action on a document the user may change; a refusal is shown on the document page (at `anchor`,
    the section the action was taken in)."""
    document = access.document_for(request.user, pk, perm)
    try:
        if request.method == "POST" and _too_large(request):
            raise DomainError(_too_large_message())
        message = action(document)
        if message:
            messages.success(request, message)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("document", args=[document.pk]) + (f"#{anchor}" if anchor else ""))


def _cleaned(form) -> dict:
    """The form's data, or a refusal naming the first field at fault (shown on the document page)."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise DomainError(f"{form.fields[field].label if field in form.fields else field}: {errors[0]}")
    return form.cleaned_data


def _upload(request):
    upload = request.FILES.get("file")
    if upload is None:
        return None, ""
    return upload, upload.content_type or ""


def _base_version(request):
    return as_version(request.POST.get("base_version"))


@require_POST
@login_required
def document_upload(request, pk):
    def upload(document):
        file, declared = _upload(request)
        if file is None:
            raise DomainError(_("Choose a file to upload."))
        version = services.add_version(document, file=file, filename=file.name, declared_type=declared,
                                       actor=request.user, base_version=_base_version(request),
                                       comment=request.POST.get("comment", ""))
        return _("Version %(n)d is saved.") % {"n": version.number}
    return _act(request, pk, upload)


@require_POST
@login_required
def document_checkout(request, pk):
    def checkout(document):
        services.check_out(document, actor=request.user)
        return _("The document is checked out to you. Nobody else can upload a new version until you check it in.")
    return _act(request, pk, checkout)


@require_POST
@login_required
def document_checkin(request, pk):
    def checkin(document):
        file, declared = _upload(request)
        services.check_in(document, actor=request.user, file=file, filename=file.name if file else "",
                          declared_type=declared, base_version=_base_version(request),
                          comment=request.POST.get("comment", ""))
        return _("The document is checked in.")
    return _act(request, pk, checkin)


@require_POST
@login_required
def document_release(request, pk):
    def release(document):
        services.force_release(document, actor=request.user, reason=request.POST.get("reason", ""))
        return _("The check-out is released.")
    return _act(request, pk, release)


@require_POST
@login_required
def document_edit(request, pk):
    def edit(document):
        d = _cleaned(EditForm(request.POST))
        services.update_document(document, {"title": d["title"], "description": d["description"],
                                            "category": d["category"]}, actor=request.user,
                                 expected_version=d["version"])
        return _("Saved.")
    return _act(request, pk, edit)


@require_POST
@login_required
def document_share(request, pk):
    def share(document):
        d = _cleaned(ShareForm(request.POST))
        link, raw = services.create_share_link(document, actor=request.user, expires=d["expires"],
                                               max_downloads=d["max_downloads"], note=d["note"],
                                               version=document.current if d["pin"] else None)
        # Shown once on the next page, where it was made: only the token's hash is kept. The address is the one
        # people outside reach Tillit at (TILLIT_PUBLIC_URL), never the Host this request named.
        request.session[f"document_share_{document.pk}"] = (settings.TILLIT_PUBLIC_URL.rstrip("/")
                                                             + reverse("shared", args=[raw]))
        return _("The link is made. Copy it now: it is shown only once.")
    return _act(request, pk, share, anchor="share")


@require_POST
@login_required
def document_share_revoke(request, pk, link_pk):
    def revoke(document):
        services.revoke_share_link(get_object_or_404(ShareLink, pk=link_pk, document=document), actor=request.user)
        return _("The link no longer works.")
    return _act(request, pk, revoke)


@require_POST
@login_required
def document_link(request, pk):
    def add(document):
        form = LinkForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("Say what to link the document to."))
        obj = access.resolve_link(request.user, form.cleaned_data["kind"], form.cleaned_data["ref"])
        services.link(document, obj, actor=request.user)
        return _("Linked.")
    return _act(request, pk, add)


@require_POST
@login_required
def document_unlink(request, pk):
    models = {"person": Person.objects.visible_to(request.user, EDIT), "case": Case.objects.visible_to(
        request.user, EDIT), "employer": employers_in_scope(request.user, EDIT)}

    def remove(document):
        kind, ref = request.POST.get("kind", ""), request.POST.get("id", "")
        if kind not in models or not as_id(ref):
            raise DomainError(_("Say which link to remove."))
        services.unlink(document, get_object_or_404(models[kind], pk=as_id(ref)), actor=request.user)
        return _("The link is removed.")
    return _act(request, pk, remove)


@require_POST
@login_required
def document_delete(request, pk):
    document = access.document_for(request.user, pk, EDIT)
    try:
        services.delete_document(document, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("document", pk=document.pk)
    messages.success(request, _("“%(title)s” is deleted.") % {"title": document.title})
    return redirect("documents")


def shared(request, token):
    """An external link: no login; the token decides. Every use and refusal is logged."""
    try:
        version = services.use_share_link(token, address=request.META.get("REMOTE_ADDR"),
                                          user_agent=request.META.get("HTTP_USER_AGENT", ""))
    except services.LinkRefused as exc:
        if exc.reason == "unknown":
            raise Http404 from exc
        return render(request, "documents/link_refused.html", {"reason": exc.reason}, status=410)
    return access.file_response(version)
