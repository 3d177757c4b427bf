"""Exporting a filtered, scoped list of people to CSV or XLSX; each export is in the access log."""

import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.core import jobs
from tillit.core.audit import log_access, log_access_many
from tillit.core.jobs import job_dir
from tillit.core.scopes import EXPORT
from tillit.core.tables import BOM, CSV_TYPE, XLSX_TYPE, Table, csv_line
from tillit.registry.listing import filter_people
from tillit.registry.models import Membership, Person, shown_national_ids
from tillit.registry.search import search_people

CHUNK = 2000


def columns():
    return [_("member number"), _("first name"), _("last name"), _("birth date"), _("national identity number"),
            _("email"), _("phone"), _("address"), _("postal code"), _("city"), _("branch"), _("status"),
            _("membership type"), _("joined on"), _("ends on")]


def _rows(people, user, channel: str = "ui", fmt: str = ""):
    """One row per person, their latest membership beside; people read in chunks by primary key, and
    each chunk written to the access log (one statement) before its rows go out."""
    last_pk = 0
    base = people.order_by("pk")
    while True:
        chunk = list(base.filter(pk__gt=last_pk)[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        log_access_many(user, "person.export", [p.pk for p in chunk], channel=channel, detail={"format": fmt})
        ids = shown_national_ids(user, chunk)
        latest = {}
        for m in Membership.objects.filter(person_id__in=[p.pk for p in chunk]).select_related(
                "branch", "membership_type").order_by("joined_on", "pk"):
            latest[m.person_id] = m
        for p in chunk:
            m = latest.get(p.pk)
            yield [m.member_number if m else "", p.first_name, p.last_name,
                   p.birth_date, ids.get(p.pk, ""), p.email, p.phone,
                   p.address_line, p.postal_code, p.city, m.branch.name if m else "",
                   m.get_status_display() if m else "", m.membership_type.name if m else "",
                   m.joined_on if m else "", m.ends_on if m else ""]


def write_file(people, fmt: str, out, *, user, channel: str, progress=None) -> int:
    """Write the export of `people` to the binary file `out` (core.tables); returns the number of rows.
    `progress(done)` after each chunk."""
    done = 0
    table = Table(fmt, out, columns(), sheet=_("people"))
    for row in _rows(people, user, channel, fmt):
        table.add(row)
        done += 1
        if progress and done % CHUNK == 0:
            progress(done)
    table.close()
    return done


def export_response(people, fmt: str, *, user, channel: str, filters: dict):
    """A download of `people` (already scoped by visible_to); the export is logged before it streams."""
    count = people.count()
    log_access(user, "people.export", channel=channel, detail={"format": fmt, "count": count, "filters": filters})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        tmp = tempfile.TemporaryFile()
        write_file(people, fmt, tmp, user=user, channel=channel)
        tmp.seek(0)
        return FileResponse(tmp, as_attachment=True, filename=f"people-{stamp}.xlsx", content_type=XLSX_TYPE)

    def stream():
        yield BOM + csv_line(columns())
        for row in _rows(people, user, channel, fmt):
            yield csv_line(row)

    response = StreamingHttpResponse(stream(), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.csv"'
    return response


# --- in the background --------------------------------------------------------------------------------------

def export_path(job, fmt: str):

    return job_dir() / f"export-{job.pk}.{fmt}"


def people_to_export(user, filters: dict):
    """The people an export of the list with `filters` holds, within the user's export scope."""
    people = filter_people(Person.objects.visible_to(user, EXPORT).current(), filters)
    if filters.get("q"):
        people = Person.objects.filter(pk__in=[p.pk for p in search_people(people, filters["q"], limit=1000)])
    return people


def _export_work(job, progress):
    """An export job (registry.views.people_export for a large list): the same rows, access log and scope as a
    download in the request, read with the job's user's scope at the time it runs."""
    fmt, filters = job.params["fmt"], job.params.get("filters") or {}
    user = job.user
    people = people_to_export(user, filters)
    total = people.count()
    log_access(user, "people.export", channel="ui", detail={"format": fmt, "count": total, "filters": filters,
                                                            "job": job.pk})
    progress(0, total, "writing")
    path = export_path(job, fmt)
    with open(path, "wb") as out:
        rows = write_file(people, fmt, out, user=user, channel="ui", progress=lambda n: progress(n, total, "writing"))
    progress(rows, rows, "writing")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return {"rows": rows, "fmt": fmt, "filename": f"people-{stamp}.{fmt}"}


@task()
def export_task(job_id: int) -> str:

    job = jobs.run(job_id, _export_work)
    return job.status if job else "gone"
