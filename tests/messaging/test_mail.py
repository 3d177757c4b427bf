"""Mail through a real SMTP server on 127.0.0.1 (aiosmtpd), and real RFC 822 messages in."""

import io
import sys
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from tests import factories
from tillit.cases.models import Case, CaseEvent
from tillit.messaging import inbound, outbox, services
from tillit.messaging.models import Message, MessageTemplate

pytestmark = pytest.mark.django_db


def _deliver_queued():
    for message in Message.objects.filter(status=Message.Status.QUEUED):
        outbox.deliver_message.call(message.pk)


def test_a_message_to_the_subject_goes_out_over_smtp_and_shows_on_the_timeline(smtp, world,
                                                                                django_capture_on_commit_callbacks):
    case = factories.case(world.a)
    with django_capture_on_commit_callbacks(execute=False):
        message = services.send_case_message(case, subject="Your question", body="We are on it.",
                                             actor=world.a.staff)
    _deliver_queued()
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.envelopes) == 1
    envelope = smtp.envelopes[0]
    assert envelope.rcpt_tos == [world.a.members[1][0].email]
    assert f"[{case.number}] Your question" in envelope.content.decode()
    event = case.events.get(kind="message_out")
    assert event.public and event.body == "We are on it."


def test_a_failed_send_is_retried_and_then_shown_as_failed(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens here
    settings.TILLIT_MAIL_MAX_ATTEMPTS = 2
    case = factories.case(world.a)
    message = services.send_case_message(case, body="Hello", actor=world.a.staff)
    assert outbox.deliver_message.call(message.pk) == "retry"
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(run_after__isnull=False).exists()  # the retry waits in the queue
    assert outbox.deliver_message.call(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 2 and message.last_error
    assert case.events.filter(kind="message_out", data__status="failed").exists()


def test_a_template_speaks_the_persons_language(smtp, world, django_capture_on_commit_callbacks):
    case = factories.case(world.a)
    person = world.a.members[1][0]
    for lang, text in [("nb", "Hei {{ person.first_name }}, sak {{ case.number }}"),
                       ("sv", "Hej {{ person.first_name }}, ärende {{ case.number }}")]:
        MessageTemplate.objects.create(case_type=case.case_type, code="received", language=lang,
                                       subject="Mottatt", body=text)
    from tillit.registry.services import update_person

    update_person(person, {"preferred_language": "sv"}, actor=None)
    message = services.send_case_message(case, template_code="received", actor=world.a.staff)
    assert message.body == f"Hej {person.first_name}, ärende {case.number}"


def _mail(subject, sender="ukjent@example.no", body="Hei", attachment=None, filename="attest.pdf"):
    msg = EmailMessage()
    msg["From"] = f"Ola Avsender <{sender}>"
    msg["To"] = "post@tillit.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<abc@example.no>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes()


@pytest.fixture
def intake(world):
    return factories.case_type(world.a.branch, name="Intake", is_intake=True)


def test_a_reply_lands_on_its_case_with_its_attachment(world, intake):
    case = factories.case(world.a)
    message = inbound.ingest_email(_mail(f"Re: [{case.number}] Your question", body="Here it is",
                                          attachment=b"%PDF-1.4 test"))
    assert message.case == case and not message.problem
    event = case.events.get(kind="message_in")
    assert event.body.strip() == "Here it is" and event.data["attachments"] == ["attest.pdf"]
    assert message.attachments.get().size == len(b"%PDF-1.4 test")
    document = case.documents.get()  # the attachment became a document linked to the case and the sender
    assert document.title == "attest" and document.current.filename == "attest.pdf"
    assert document.current.blob.stored_name == message.attachments.get().stored_name  # kept once
    assert document.current.media_type == "application/pdf" and list(document.persons.all()) == [message.person]
    assert case.events.filter(kind="document", data__document=document.pk).exists()


def test_attachments_the_document_rules_refuse_are_kept_with_the_message(world, intake):
    case = factories.case(world.a)
    message = inbound.ingest_email(_mail(f"Re: [{case.number}] Program", attachment=b"MZ\x90\x00binary",
                                          filename="setup.exe"))
    assert message.attachments.get().filename == "setup.exe"
    assert not case.documents.exists()
    event = case.events.get(kind="message_in")
    assert event.data["refused"] == ["setup.exe: Files of this kind (.exe) are not accepted."]


def test_new_mail_opens_an_intake_case_for_the_sender(world, intake):
    known = world.a.members[1][0]
    message = inbound.ingest_email(_mail("Spørsmål om forsikring", sender=known.email))
    assert message.case.case_type == intake and list(message.case.subjects.all()) == [known]
    stranger = inbound.ingest_email(_mail("Hello", sender="new.person@example.no"))
    assert stranger.case.subjects.get().email == "new.person@example.no"


def test_unknown_case_numbers_and_broken_mail_are_kept_in_the_intake(world, intake):
    unknown = inbound.ingest_email(_mail("Re: [1999/00042] old"))
    assert unknown.case.case_type == intake and "unknown case number" in unknown.problem
    broken = inbound.ingest_email(b"From: nobody\r\nSubject: =?utf-8?q?broken\r\n\r\n\xff\xfe garbage")
    assert broken.pk and broken.case is not None and broken.raw_name
    huge = b"From: a@example.no\r\nSubject: big\r\n\r\n" + b"x" * 2048
    from django.test import override_settings

    with override_settings(TILLIT_INBOUND_MAX_BYTES=1024):
        big = inbound.ingest_email(huge)
    assert big.problem == "too large" and big.case.case_type == intake


def test_ingest_email_reads_standard_input(world, intake, monkeypatch):
    raw = _mail("Via pipe")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("ingest_email", stdout=out)
    assert Case.objects.filter(title="Via pipe").exists() and "case" in out.getvalue()
    assert CaseEvent.objects.filter(kind="message_in", case__title="Via pipe").exists()


def test_text_messages_go_through_the_configured_backend(settings):
    from tillit.messaging.sms import MemoryBackend, send_sms

    settings.TILLIT_SMS_BACKEND = "tillit.messaging.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    send_sms("412 34 567", "Møtet er flyttet")
    assert MemoryBackend.outbox == [("+4741234567", "Møtet er flyttet")]
    with pytest.raises(ValueError):
        send_sms("12", "x")


def test_a_forwarded_message_is_kept_as_a_real_eml_document(world, intake):
    from tillit.documents.models import Document

    inner = EmailMessage()
    inner["From"] = "Leder <leder@bedrift.no>"
    inner["Subject"] = "Oppsigelse"
    inner.set_content("Vi må dessverre si deg opp.")
    outer = EmailMessage()
    outer["From"] = "Kari <kari@example.no>"
    outer["Subject"] = "Fwd: Oppsigelse"
    outer.set_content("Se under.")
    outer.add_attachment(inner)
    message = inbound.ingest_email(outer.as_bytes())
    attachment = message.attachments.get()
    assert attachment.filename.endswith(".eml") and attachment.size > 50
    document = Document.objects.get(cases=message.case)
    assert document.current.blob.size == attachment.size  # filed as a document, not refused as empty


def test_eight_bit_headers_and_bodies_without_a_charset_are_read_as_utf8_or_windows_1252(world, intake):
    utf8 = (b"From: =?utf-8?q?Bj=C3=B8rn?= <bjorn@example.no>\r\nSubject: S\xc3\xb8knad om st\xc3\xb8tte\r\n"
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHilsen Bj\xc3\xb8rn\r\n")
    cp1252 = (b"From: per@example.no\r\nSubject: M\xf8te om l\xf8nn\r\n"
              b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHilsen P\xe5l \x96 tillitsvalgt\r\n")
    first, second = inbound.ingest_email(utf8), inbound.ingest_email(cp1252)
    assert first.subject == "Søknad om støtte" and "Hilsen Bjørn" in first.body
    assert second.subject == "Møte om lønn" and "Hilsen Pål – tillitsvalgt" in second.body
    assert "\ufffd" not in first.body + second.body + first.subject + second.subject


@pytest.mark.parametrize("where", ["body", "subject", "from"])
def test_mail_in_with_a_nul_byte_is_kept_and_filed(world, where):
    """`tillit ingest-email` with NUL in the body or a header was a traceback on PostgreSQL and the message was
    lost: the raw bytes are kept as they came, the text is filed without the NUL."""
    from django.core.files.storage import default_storage

    from tillit.messaging.inbound import ingest_email

    case = factories.case(world.a)
    sender = b"Ola \x00Nordmann <ola@example.no>" if where == "from" else b"Ola <ola@example.no>"
    subject = b"[" + case.number.encode() + (b"] Sv\x00ar" if where == "subject" else b"] Svar")
    body = b"Hei\x00 der" if where == "body" else b"Hei der"
    raw = b"From: " + sender + b"\r\nTo: post@tillit.example\r\nSubject: " + subject + b"\r\n\r\n" + body + b"\r\n"
    message = ingest_email(raw)
    stored = Message.objects.get(pk=message.pk)
    assert "\x00" not in stored.body + stored.subject + stored.address
    assert stored.case_id == case.pk and "Hei" in stored.body
    with default_storage.open(stored.raw_name, "rb") as fh:
        assert fh.read() == raw


def test_case_documents_go_out_attached_and_only_the_cases_own(client, smtp, world, settings,
                                                               django_capture_on_commit_callbacks):
    import email as email_lib
    import email.policy

    from django.urls import reverse

    case = factories.case(world.a)
    agreement = factories.document(world.a, content=b"The signed agreement", title="Agreement",
                                   cases=[case])
    theirs = factories.document(world.b, content=b"B's own", title="Theirs")
    client.force_login(world.a.staff)
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert f'name="document" value="{agreement.pk}"' in page and f'name="document" value="{theirs.pk}"' not in page
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("case_message", args=[case.pk]), {"subject": "Signed", "body": "Here it is.",
                                                                "document": [agreement.pk]})
    _deliver_queued()
    sent = email_lib.message_from_bytes(smtp.envelopes[-1].content, policy=email.policy.default)
    files = [(part.get_filename(), part.get_content()) for part in sent.iter_attachments()]
    assert len(files) == 1 and files[0][1] in (b"The signed agreement", "The signed agreement")
    assert case.events.filter(kind="message_out").latest("pk").data["attachments"] == [files[0][0]]
    # Another side's document, or too much together, is refused and nothing is sent.
    before = Message.objects.count()
    refused = client.post(reverse("case_message", args=[case.pk]), {"body": "x", "document": [theirs.pk]},
                          follow=True)
    assert b"own documents can be sent with it" in refused.content and Message.objects.count() == before
    settings.TILLIT_MAIL_ATTACHMENTS_MAX_BYTES = 10
    large = client.post(reverse("case_message", args=[case.pk]), {"body": "x", "document": [agreement.pk]},
                        follow=True)
    assert b"too large to send by email" in large.content and Message.objects.count() == before
