"""GDPR Art. 15: everything Tillit holds about the person, machine-readable, for the person themselves. Cases
come with their public timeline (internal working notes are member service's to give out on request, where the
law allows), and the record's change history and who looked at it are included."""

import datetime
import decimal
import json

from django.utils import timezone

from tillit.cases.models import CaseEvent
from tillit.core import audit
from tillit.core.models import AccessLogEntry, AuditEntry
from tillit.documents.models import Document
from tillit.dues.models import LedgerEntry
from tillit.messaging.models import Message, OptOut, Recipient
from tillit.portal.access import events_for, own_cases
from tillit.portal.models import Booking, Consent, Rating
from tillit.registry import fields as person_fields


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def data_of(user, person) -> dict:


    cases = list(own_cases(user).select_related("state", "responsible_unit", "case_type").prefetch_related(
        "answers").order_by("opened_at"))
    timelines = {c.pk: events_for(user, c) for c in cases}  # what the case page shows them, nothing more
    out = {
        "exported_at": timezone.now(),
        "person": {f: getattr(person, f) for f in person_fields.SHOWN},
        "memberships": [{"member_number": m.member_number, "type": m.membership_type.name, "branch": m.branch.name,
                         "joined_on": m.joined_on, "ends_on": m.ends_on, "status": m.get_status_display(),
                         "history": [{"status": p.get_status_display(), "from": p.valid_from, "to": p.valid_to,
                                      "reason": p.reason} for p in sorted(m.periods.all(), key=lambda p: p.valid_from)]}
                        for m in person.memberships.select_related("membership_type", "branch").prefetch_related(
                            "periods")],
        "employments": [{"workplace": e.workplace.name, "position": e.position, "percentage": e.percentage,
                         "from": e.starts_on, "to": e.ends_on,
                         "leave": [{"from": leave.starts_on, "to": leave.ends_on} for leave in e.leaves.all()]}
                        for e in person.employments.select_related("workplace").prefetch_related("leaves")],
        "roles": [{"role": str(r.role_type), "at": str(r.employer or r.org_unit), "from": r.starts_on,
                   "to": r.ends_on} for r in person.roles.select_related("role_type", "employer", "org_unit")],
        "cases": [{"number": c.number, "title": c.title, "type": c.case_type.name, "state": c.state.name,
                   "unit": c.responsible_unit.name, "opened_at": c.opened_at, "closed_at": c.closed_at,
                   "answers": [{"question": a.label, "answer": a.value} for a in c.answers.all()],
                   "timeline": [{"at": e.at, "kind": e.get_kind_display(), "text": e.body}
                                for e in timelines[c.pk]]} for c in cases],
        "documents": [{"title": d.title, "created_at": d.created_at} for d in Document.objects.filter(
            pk__in=[e.data.get("document") for t in timelines.values() for e in t
                    if e.kind == CaseEvent.Kind.DOCUMENT]).order_by("pk")],
        "messages": [{"at": m.created_at, "direction": m.get_direction_display(), "subject": m.subject,
                      "address": m.address, "status": m.get_status_display()}
                     for m in Message.objects.filter(person=person).order_by("created_at")],
        "messages_to_members": [{"at": r.mailing.created_at, "status": r.get_status_display()}
                                for r in Recipient.objects.filter(person=person).select_related("mailing")],
        "opted_out_of_reps_messages": OptOut.objects.filter(person=person).exists(),
        "consents": [{"kind": c.get_kind_display(), "given": c.given, "at": c.at}
                     for c in Consent.objects.filter(person=person).order_by("at")],
        "bookings": [{"at": b.starts_at, "state": b.get_state_display(), "case": b.case.number}
                     for b in Booking.objects.filter(person=person).select_related("case")],
        "ratings": [{"case": r.case.number, "score": r.score, "comment": r.comment}
                    for r in Rating.objects.filter(case__in=cases).select_related("case")],
        "changes_to_your_record": [{"at": e.at, "action": e.action, "channel": e.get_channel_display(),
                                    "changes": e.changes}
                                   for e in AuditEntry.objects.filter(person_id=person.pk).order_by("at")],
        "who_looked_at_your_record": [{"at": e.at, "by": e.user.get_username() if e.user_id else None,
                                       "action": e.action, "channel": e.channel}
                                      for e in AccessLogEntry.objects.filter(person_id=person.pk)
                                      .select_related("user").order_by("at")],
    }

    out["dues"] = [{"at": e.created_at, "kind": e.get_kind_display(), "period": e.period, "amount_ore": e.amount}
                   for e in LedgerEntry.objects.filter(person=person).order_by("created_at", "pk")]
    return out


def export_json(user, person) -> bytes:
    data = data_of(user, person)
    audit.record("portal.data_exported", person, actor=user, channel="portal", person_id=person.pk,
                 changes={"sections": [None, sorted(data)]})
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2).encode()
