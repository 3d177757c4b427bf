"""Exporting a filtered, scoped list of people to CSV or XLSX; each export is in the access log."""

import csv
import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core.audit import log_access, log_access_many
from tillit.registry.models import Membership, shown_national_ids

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
                   p.birth_date.isoformat() if p.birth_date else "", ids.get(p.pk, ""), p.email, p.phone,
                   p.address_line, p.postal_code, p.city, m.branch.name if m else "",
                   m.get_status_display() if m else "", m.membership_type.name if m else "",
                   m.joined_on.isoformat() if m else "", m.ends_on.isoformat() if m and m.ends_on else ""]


class _Echo:
    def write(self, value):
        return value


def export_response(people, fmt: str, *, user, channel: str, filters: dict):
    """A download of `people` (already scoped by visible_to); the export is logged before it streams."""
    count = people.count()
    log_access(user, "people.export", channel=channel, detail={"format": fmt, "count": count, "filters": filters})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(_("people"))
        sheet.append(columns())
        for row in _rows(people, user, channel, fmt):
            sheet.append(row)
        tmp = tempfile.TemporaryFile()
        book.save(tmp)
        tmp.seek(0)
        return FileResponse(tmp, as_attachment=True, filename=f"people-{stamp}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff" + writer.writerow(columns())
        for row in _rows(people, user, channel, fmt):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.csv"'
    return response
