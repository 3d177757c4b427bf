"""Messages to a selection, over a real SMTP server: the list's people and no one else, each in their language,
status per recipient (sent, refused, bounced, opted out, no address), unsubscribing by the link, text messages."""

import email
import email.policy
import re

import pytest
from django.urls import reverse

from tillit.messaging import inbound, mailings
from tillit.messaging.models import Mailing, MessageTemplate, OptOut, Recipient
from tillit.messaging.sms import MemoryBackend
from tillit.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def templates(db):
    for lang, subject in (("nb", "Årsmøte"), ("sv", "Årsmöte"), ("en", "Annual meeting")):
        MessageTemplate.objects.create(code="meeting", language=lang, subject=subject, for_selection=True,
                                       statutory=True, body=f"{subject}: {{{{ first_name }}}} at {{{{ workplace }}}}")
    MessageTemplate.objects.create(code="news", language="nb", subject="Nytt", body="Hei {{ first_name }}",
                                   for_selection=True)


def _compose(client, **data):
    return client.post(reverse("compose_mailing") + "?source=reps", data)


def _read(envelope) -> tuple[str, str]:
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return str(parsed["Subject"]), parsed.get_content()


def _send_all(mailing_pk):
    return mailings.send_mailing.call(mailing_pk)


def test_a_rep_sends_to_their_list_with_status_per_recipient(client, world, smtp, templates,
                                                              django_capture_on_commit_callbacks):
    side = world.a
    rep_person, (first, _m1), (second, _m2) = side.members[0][0], side.members[1], side.members[2]
    second.preferred_language = "sv"
    second.save(update_fields=["preferred_language"])
    OptOut.objects.create(person=rep_person)
    smtp.refuse.add(first.email)
    client.force_login(side.rep)
    preview = _compose(client, channel="email", template="news", action="preview")
    assert preview.status_code == 200 and "Hei " in preview.context["preview"]["body"]
    assert "/unsubscribe/" in preview.context["preview"]["body"]  # not statutory: the link is there
    bad = _compose(client, channel="email", subject="Hi {{ national_id }}", body="x", action="preview")
    assert bad.status_code == 422 and "subject" in bad.context["field_errors"]
    with django_capture_on_commit_callbacks(execute=False):
        sent = _compose(client, channel="email", subject="Klubbmøte {{ workplace }}",
                        body="Hei {{ first_name }}, velkommen.", action="send")
    mailing = Mailing.objects.get()
    assert sent.url == reverse("mailing", args=[mailing.pk]) and mailing.total == 3
    _send_all(mailing.pk)
    status = dict(Recipient.objects.filter(mailing=mailing).values_list("person_id", "status"))
    assert status == {rep_person.pk: "opted_out", first.pk: "failed", second.pk: "sent"}
    assert "550" in Recipient.objects.get(mailing=mailing, person=first).reason
    assert [e.rcpt_tos for e in smtp.envelopes] == [[second.email]]
    subject, body = _read(smtp.envelopes[0])
    assert subject == f"Klubbmøte {side.workplace.name}" and f"Hei {second.first_name}, velkommen." in body
    page = client.get(reverse("mailing", args=[mailing.pk]))
    assert page.context["progress"]["done"] == 3 and page.context["progress"]["counts"]["sent"] == 1
    # on the recipient's person page, for staff
    client.force_login(side.staff)
    assert "Klubbmøte" in client.get(reverse("person", args=[second.pk])).content.decode()
    # another scope's staff and rep see neither the message nor its page
    client.force_login(world.b.rep)
    assert client.get(reverse("mailing", args=[mailing.pk])).status_code == 404


def test_a_statutory_notice_reaches_those_who_opted_out_in_their_language(client, world, smtp, templates,
                                                                         django_capture_on_commit_callbacks):
    side = world.a
    second = side.members[2][0]
    second.preferred_language = "sv"
    second.save(update_fields=["preferred_language"])
    OptOut.objects.create(person=second)
    client.force_login(side.rep)
    with django_capture_on_commit_callbacks(execute=False):
        _compose(client, channel="email", template="meeting", action="send")
    mailing = Mailing.objects.get()
    assert mailing.statutory
    _send_all(mailing.pk)
    by_address = {e.rcpt_tos[0]: _read(e) for e in smtp.envelopes}
    assert len(by_address) == 3 and by_address[second.email][0] == "Årsmöte"
    assert by_address[second.email][1].startswith(f"Årsmöte: {second.first_name} at {side.workplace.name}")
    assert "/unsubscribe/" not in by_address[second.email][1]


def test_a_bounce_report_marks_the_recipient_bounced(client, world, smtp, templates,
                                                     django_capture_on_commit_callbacks):
    side = world.a
    client.force_login(side.rep)
    with django_capture_on_commit_callbacks(execute=False):
        _compose(client, channel="email", template="news", action="send")
    mailing = Mailing.objects.get()
    _send_all(mailing.pk)
    target = Recipient.objects.filter(mailing=mailing, status="sent").select_related("message").first()
    report = (f"From: MAILER-DAEMON@example.net\r\nTo: tillit@localhost\r\nSubject: Undelivered Mail\r\n"
              f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
              f"--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n--b\r\n"
              f"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.net\r\n\r\n"
              f"Final-Recipient: rfc822; {target.address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              f"Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n--b\r\n"
              f"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: {target.message.message_id}\r\n--b--\r\n")
    incoming = inbound.ingest_email(report.encode())
    target.refresh_from_db()
    assert target.status == "bounced" and "mailbox unknown" in target.reason
    assert incoming.problem.startswith("bounce") and incoming.case is None


def test_the_unsubscribe_link_asks_first_and_a_forged_one_does_nothing(client, world):
    person = world.a.members[1][0]
    url = mailings.opt_out_url("http://testserver/", person.pk)
    path = re.sub(r"^http://testserver", "", url)
    assert client.get(path).status_code == 200 and not OptOut.objects.exists()
    assert client.post(path).status_code == 200 and OptOut.objects.filter(person=person).exists()
    assert client.post(path[:-3] + "xyz/").status_code == 404
    assert OptOut.objects.count() == 1


def test_member_service_messages_its_people_list_and_never_anothers(client, world, django_capture_on_commit_callbacks,
                                                                   settings):
    settings.TILLIT_SMS_BACKEND = "tillit.messaging.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    side = world.a
    Person.objects.filter(pk__in=[p.pk for p, _m in side.members]).update(phone="+4791234567")
    client.force_login(side.staff)
    url = reverse("compose_mailing") + f"?source=people&unit={side.branch.pk}"
    page = client.get(url)
    ids = {r["person_id"] for r in page.context["rows"]}
    assert ids == {p.pk for p, _m in side.members}
    probe = client.get(reverse("compose_mailing") + f"?source=people&unit={world.b.branch.pk}")
    assert not probe.context["rows"]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"channel": "sms", "body": "Møte i morgen, {{ first_name }}", "action": "send"})
    mailing = Mailing.objects.get(channel="sms")
    _send_all(mailing.pk)
    assert len(MemoryBackend.outbox) == 3 and all(number == "+4791234567" for number, _t in MemoryBackend.outbox)
    assert set(Recipient.objects.filter(mailing=mailing).values_list("status", flat=True)) == {"sent"}
    # a rep is not member service on the people list, and a list without a source is not a list
    client.force_login(side.rep)
    assert client.get(reverse("compose_mailing") + "?source=people").status_code == 404
    assert client.get(reverse("compose_mailing")).status_code == 404


def test_templates_are_saved_audited_and_the_text_can_stay_off_the_person_page(client, world, settings,
                                                                             django_capture_on_commit_callbacks):
    from tillit.core.models import AuditEntry

    client.force_login(world.admin)
    bad = client.post(reverse("selection_template_new"), {"code": "meet", "language": "nb", "subject": "Hei",
                                                          "body": "{{ national_id }}"})
    assert bad.status_code == 422 and not MessageTemplate.objects.filter(code="meet").exists()
    client.post(reverse("selection_template_new"), {"code": "meet", "language": "nb", "subject": "Møte",
                                                    "body": "Hei {{ first_name }}", "statutory": "on"})
    template = MessageTemplate.objects.get(code="meet")
    assert template.statutory and AuditEntry.objects.filter(action="messaging.template.saved",
                                                            actor=world.admin).exists()
    settings.TILLIT_MAILING_TEXT_ON_PERSON_PAGE = False
    client.force_login(world.a.staff)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("compose_mailing") + f"?source=people&unit={world.a.branch.pk}",
                    {"channel": "email", "subject": "Secret plan", "body": "Details", "action": "send"})
    page = client.get(reverse("person", args=[world.a.members[1][0].pk])).content.decode()
    assert "not kept on the person page" in page and "Secret plan" not in page
