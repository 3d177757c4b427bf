"""Booking a time with a service: slots of a fixed length within the opening hours on the unit's business days
(weekends and the country's public holidays excluded), each for `capacity` people; booking opens a case of the
service in the unit's queue for that day. A booking takes the service's row lock first, so concurrent requests
for the last place cannot both win."""

import datetime

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import task

from tillit.cases import services as case_services
from tillit.cases.deadlines import is_business_day
from tillit.cases.models import CaseEvent
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.portal.models import Booking, Service
from tillit.portal.services import home_unit


def _country(service: Service) -> str:
    return service.case_type.default_unit.country or "NO"


def slots(service: Service, *, start: datetime.date | None = None, days: int | None = None) -> list[dict]:
    """The bookable times from `start` (default: tomorrow) over the next business days, with places left."""
    if not service.bookable or not service.opens or not service.closes:
        return []
    tz = timezone.get_current_timezone()
    start = start or timezone.localdate() + datetime.timedelta(days=1)
    last = start + datetime.timedelta(days=days if days is not None else service.days_ahead)
    times, day = [], start
    while day <= last:
        if is_business_day(day, _country(service)):
            at = datetime.datetime.combine(day, service.opens, tz)
            end = datetime.datetime.combine(day, service.closes, tz)
            while at + datetime.timedelta(minutes=service.slot_minutes) <= end:
                times.append(at)
                at += datetime.timedelta(minutes=service.slot_minutes)
        day += datetime.timedelta(days=1)
    if not times:
        return []
    taken = dict(Booking.objects.filter(service=service, state=Booking.State.BOOKED, starts_at__gte=times[0],
                                        starts_at__lte=times[-1]).values("starts_at").annotate(n=Count("pk"))
                 .values_list("starts_at", "n"))
    return [{"at": t, "left": service.capacity - taken.get(t, 0)} for t in times]


def parse_slot(service: Service, value: str) -> datetime.datetime:
    """A slot from a form (ISO time); anything that is not one of the service's slots is refused."""
    try:
        at = datetime.datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("Choose one of the times offered."), field_errors={"slot": [_("Not a time.")]}) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.get_current_timezone())
    local = timezone.localtime(at)
    offered = {s["at"] for s in slots(service, start=local.date(), days=0)}
    if at not in offered or local.date() <= timezone.localdate():
        raise InvalidInput(_("Choose one of the times offered."), field_errors={"slot": [_("Not offered.")]})
    return at


def _take(service: Service, at: datetime.datetime) -> None:
    """Lock the service (an UPDATE: the row lock on PostgreSQL, the write lock on SQLite), then count."""
    Service.objects.filter(pk=service.pk).update(version=F("version"))
    taken = Booking.objects.filter(service=service, starts_at=at, state=Booking.State.BOOKED).count()
    if taken >= service.capacity:
        raise ConflictError(_("This time was just taken. Choose another."), field_errors={"slot": [_("Full.")]})


@transaction.atomic
def book(service: Service, *, person, at: datetime.datetime, user, note: str = "", base_url: str) -> Booking:
    if not service.bookable:
        raise DomainError(_("This service does not take bookings."))
    _take(service, at)
    local = timezone.localtime(at)
    case = case_services.open_case(service.case_type, title=_("Booking %(day)s %(time)s") % {
        "day": local.date().isoformat(), "time": local.strftime("%H:%M")}, actor=user, channel="portal",
        subjects=[person], body=(note or "").strip()[:2000], unit=home_unit(service.case_type, person))
    when = local.strftime("%Y-%m-%d %H:%M")
    case_services.update_case(case, {"due_on": local.date(), "reason": _("Booked for %(when)s") % {"when": when}},
                              actor=user, channel="portal")  # in the unit's queue for that day
    booking = Booking.objects.create(service=service, starts_at=at, person=person, case=case)
    _on_timeline(booking, _("Booked for %(when)s") % {"when": when}, user)
    _mail(booking, "confirmation", base_url)
    return booking


@transaction.atomic
def move(booking: Booking, *, at: datetime.datetime, user, base_url: str) -> Booking:
    booking = Booking.objects.select_for_update().select_related("service__case_type__default_unit", "case",
                                                                 "person").get(pk=booking.pk)
    if booking.state != Booking.State.BOOKED:
        raise ConflictError(_("This booking is cancelled."))
    if at == booking.starts_at:
        return booking
    _take(booking.service, at)
    booking.starts_at, booking.reminded_at = at, None
    booking.save(update_fields=["starts_at", "reminded_at"])
    when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    case_services.update_case(booking.case, {"due_on": timezone.localtime(at).date(),
                                             "reason": _("Moved to %(when)s") % {"when": when}},
                              actor=user, channel="portal")
    _on_timeline(booking, _("Moved to %(when)s") % {"when": when}, user)
    _mail(booking, "confirmation", base_url)
    return booking


@transaction.atomic
def cancel(booking: Booking, *, user, base_url: str) -> Booking:
    updated = Booking.objects.filter(pk=booking.pk, state=Booking.State.BOOKED).update(state=Booking.State.CANCELLED)
    if not updated:
        raise ConflictError(_("This booking is already cancelled."))
    booking.refresh_from_db()
    _on_timeline(booking, _("Booking cancelled"), user)
    _mail(booking, "cancelled", base_url)
    return booking


def _on_timeline(booking: Booking, text: str, user) -> None:
    case_services.record_event(booking.case, CaseEvent.Kind.NOTE, actor=user, public=True, body=text,
                               data={"booking": booking.pk, "channel": "portal"})


def ics(booking: Booking, *, cancelled: bool = False) -> bytes:
    """The booking as an iCalendar event (RFC 5545), times in UTC."""
    def stamp(value):
        return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")

    end = booking.starts_at + datetime.timedelta(minutes=booking.service.slot_minutes)
    title = booking.service.title(booking.person.preferred_language or "nb").replace("\n", " ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tillit//Booking//EN",
             f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}", "BEGIN:VEVENT",
             f"UID:booking-{booking.pk}@tillit", f"DTSTAMP:{stamp(timezone.now())}",
             f"DTSTART:{stamp(booking.starts_at)}", f"DTEND:{stamp(end)}",
             f"SUMMARY:{title} ({booking.case.number})", f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
             "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def _mail(booking: Booking, kind: str, base_url: str) -> None:
    from tillit.messaging.outbox import queue_email
    from tillit.portal.services import public_url

    person = booking.person
    if not person.email:
        return
    local = timezone.localtime(booking.starts_at)
    with override(person.preferred_language or "nb"):
        subjects = {"confirmation": _("Your booking %(when)s"), "reminder": _("Reminder: your booking %(when)s"),
                    "cancelled": _("Cancelled: your booking %(when)s")}
        subject = subjects[kind] % {"when": local.strftime("%Y-%m-%d %H:%M")}
        body = _("%(s)s, %(when)s. Move or cancel it here: %(url)s\n") % {
            "s": booking.service.title(person.preferred_language or "nb"), "when": local.strftime("%Y-%m-%d %H:%M"),
            "url": public_url(base_url, "portal_case", booking.case_id)}
        queue_email(address=person.email, person=person, subject=subject, body=body,
                    attachments=[("booking.ics", "text/calendar", ics(booking, cancelled=kind == "cancelled"))])


def remind(now=None) -> int:
    """Bookings starting within a day that have had no reminder: one email each, with the calendar entry."""
    from django.conf import settings

    now = now or timezone.now()
    due = Booking.objects.filter(state=Booking.State.BOOKED, reminded_at__isnull=True, starts_at__gt=now,
                                 starts_at__lte=now + datetime.timedelta(days=1)).select_related(
        "service__case_type", "person", "case")
    sent = 0
    for booking in due[:1000]:
        with transaction.atomic():
            if Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(reminded_at=now):
                _mail(booking, "reminder", settings.TILLIT_PUBLIC_URL)
                sent += 1
    return sent


@task()
def remind_task() -> int:
    return remind()
