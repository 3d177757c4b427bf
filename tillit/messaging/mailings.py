"""Messages to a selection: a rep's or member service's member list, by email or text message.

The text is one subject and body with merge fields (`{{ first_name }}`), either written for this message or a
template with a variant per language (each recipient gets theirs). The recipients are fixed when the message is
sent; a background task delivers it in chunks over one SMTP connection and records the status per recipient.
People who unsubscribed (the link at the end of every message that is not a statutory notice) are skipped.
"""

import email.utils
import re

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override
from django_tasks import task

from tillit.core import audit
from tillit.core.bulk import insert_with_ids
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.policy import require
from tillit.core.tasks import enqueue_on_commit
from tillit.messaging.access import may_write_to
from tillit.messaging.models import Mailing, Message, MessageTemplate, OptOut, Recipient
from tillit.messaging.outbox import deliver_batch, mark_uncertain, settled
from tillit.messaging.sms import send_sms
from tillit.registry.models import Person
from tillit.registry.validation import Errors, clean_line

MERGE_FIELDS = {"first_name": gettext_lazy("first name"), "last_name": gettext_lazy("last name"),
                "member_number": gettext_lazy("member number"), "workplace": gettext_lazy("workplace"),
                "sender": gettext_lazy("the sender's name"),
                "amount_owed": gettext_lazy("dues the member owes, in kroner")}
MERGE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CHUNK = 100
SMS_MAX = 612  # four text message parts
MAX_RECIPIENTS = 50_000
OPT_OUT_SALT = "tillit.messaging.opt-out"


def check_text(text: str, field: str, errors: Errors, *, required: bool = True, limit: int = 20_000) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if required and not text:
        errors.add(field, _("This field is required."))
    elif len(text) > limit:
        errors.add(field, _("At most %(n)s characters.") % {"n": limit})
    unknown = sorted({name for name in MERGE.findall(text) if name not in MERGE_FIELDS})
    if unknown:
        errors.add(field, _("Unknown merge fields: %(names)s. Known: %(known)s.") % {
            "names": ", ".join(unknown), "known": ", ".join(f"{{{{ {k} }}}}" for k in MERGE_FIELDS)})
    return text


def merge(text: str, values: dict) -> str:
    return MERGE.sub(lambda m: str(values.get(m.group(1), "")), text)


def selection_templates():
    return MessageTemplate.objects.filter(for_selection=True, case_type=None).order_by("code", "language")


def template_variants(code: str) -> dict[str, MessageTemplate]:
    return {t.language: t for t in selection_templates().filter(code=code)}


def template_choices(language: str) -> list[tuple[str, str]]:
    """The selection templates as (code, name) for a menu: each named by its subject in the reader's language (else
    bokmål, else any)."""
    names = {}
    for t in selection_templates():
        if t.language == language or t.code not in names or (t.language == "nb" and names[t.code][0] != language):
            names[t.code] = (t.language, t.subject)
    return sorted(((code, subject) for code, (_lang, subject) in names.items()), key=lambda kv: kv[1].lower())


def filled_in(code: str, language: str) -> tuple[str, str]:
    """A template's subject and text in the writer's language, to edit before sending."""
    variants = template_variants(code[:40])
    if not variants:
        raise InvalidInput(_("No such template."), field_errors={"template": [_("No such template.")]})
    chosen = variants.get(language) or variants.get("nb") or next(iter(variants.values()))
    return chosen.subject, chosen.body


def _normal(text) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def clean_draft(data: dict, *, channel_required: bool = True) -> dict:
    """The message as written on the compose page: channel, subject and text. A template chosen and left as it was
    filled in goes out as the template (each recipient gets its variant in their language; a statutory notice
    stays one); once its subject or text is edited, what was written goes to everyone. With a template and nothing
    written, the template goes as it is."""
    errors = Errors()
    channel = (data.get("channel") or "email").strip()
    if channel not in Mailing.Channel.values:
        errors.add("channel", _("Choose email or text message."))
    code = (data.get("template") or "").strip()
    out = {"channel": channel, "template": None, "subject": "", "body": "", "variants": {}}
    variants = template_variants(code[:40]) if code else {}
    if code and not variants:
        errors.add("template", _("No such template."))
    written = (_normal(data.get("subject")), _normal(data.get("body")))
    untouched = written == ("", "") or any(written == (_normal(t.subject), _normal(t.body)) for t in variants.values())
    if variants and untouched:
        out["template"], out["variants"] = code, variants
    elif not (code and not variants):
        limit = SMS_MAX if channel == Mailing.Channel.SMS else 20_000
        if channel == Mailing.Channel.EMAIL:
            out["subject"] = clean_line(data.get("subject"), "subject", errors, max_length=200, required=True)
            check_text(out["subject"], "subject", errors)
        out["body"] = check_text(data.get("body"), "body", errors, limit=limit)
    errors.raise_if_any()
    return out


def statutory(draft: dict) -> bool:
    return any(t.statutory for t in draft["variants"].values())


def texts_for(draft: dict, language: str) -> tuple[str, str]:
    """The subject and body in the recipient's language (the template's variant, else bokmål, else any)."""
    if not draft["variants"]:
        return draft["subject"], draft["body"]
    variants = draft["variants"]
    chosen = variants.get(language) or variants.get("nb") or next(iter(variants.values()))
    return chosen.subject, chosen.body


def opt_out_url(base_url: str, person_id: int) -> str:
    token = signing.dumps(person_id, salt=OPT_OUT_SALT, compress=True)
    return base_url.rstrip("/") + reverse("opt_out", args=[token])


def person_of_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=OPT_OUT_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def render(draft: dict, row: dict, *, base_url: str, is_statutory: bool) -> tuple[str, str]:
    """What one recipient gets: their language's text with their merge values, and the unsubscribe link."""
    subject, body = texts_for(draft, row.get("language") or "nb")
    subject, body = merge(subject, row["merge"]).strip(), merge(body, row["merge"])
    if not is_statutory and draft["channel"] == Mailing.Channel.EMAIL:
        with override(row.get("language") or "nb"):
            footer = _("You get this because you are a member. No more messages from your reps: %(url)s")
            body += "\n\n-- \n" + footer % {"url": opt_out_url(base_url, row["person_id"])}
    return subject, body


@transaction.atomic
def create_mailing(draft: dict, rows: list[dict], *, user, selection: dict, base_url: str) -> Mailing:
    """Fix the recipients (rows of person_id, email, phone, language, merge values) and queue the sending.

    Opted-out people are kept as rows with that status (the sender sees why they were skipped), unless the
    message is a statutory notice; people with no address for the channel likewise. The sender may write to
    every recipient (messaging.access: messaging.people or messaging.reps)."""
    require(may_write_to(user, [r["person_id"] for r in rows], selection.get("source", "people")),
            _("You cannot write to everyone in this selection."))
    if not rows:
        raise InvalidInput(_("The selection is empty: no one to send to."), field_errors={
            "selection": [_("No one in the selection.")]})
    if len(rows) > MAX_RECIPIENTS:
        raise InvalidInput(_("At most %(n)s recipients at a time; narrow the list.") % {"n": MAX_RECIPIENTS},
                           field_errors={"selection": [_("Too many recipients.")]})
    is_statutory = statutory(draft)
    first_variant = next(iter(draft["variants"].values()), None)
    mailing = Mailing.objects.create(
        channel=draft["channel"], template=first_variant, subject=draft["subject"], body=draft["body"],
        statutory=is_statutory, keep_text=settings.TILLIT_MAILING_TEXT_ON_PERSON_PAGE, selection=selection,
        base_url=base_url, total=len(rows), created_by=user)
    opted = set() if is_statutory else set(OptOut.objects.filter(
        person_id__in=[r["person_id"] for r in rows]).values_list("person_id", flat=True))
    key = "email" if draft["channel"] == Mailing.Channel.EMAIL else "phone"
    recipients = []
    for row in rows:
        status = Recipient.Status.QUEUED
        if row["person_id"] in opted:
            status = Recipient.Status.OPTED_OUT
        elif not row.get(key):
            status = Recipient.Status.NO_ADDRESS
        recipients.append(Recipient(mailing=mailing, person_id=row["person_id"], address=(row.get(key) or "")[:254],
                                    language=row.get("language") or "nb", merge=row["merge"], status=status))
    Recipient.objects.bulk_create(recipients, batch_size=2000)
    audit.record("messaging.mailing.created", mailing, actor=user, channel=selection.get("channel", "ui"),
                 changes={"recipients": [None, len(rows)], "channel": [None, mailing.channel],
                          "template": [None, draft["template"]], "selection": [None, selection]})
    enqueue_on_commit(send_mailing, mailing.pk)
    return mailing


def draft_of(mailing: Mailing) -> dict:
    variants = template_variants(mailing.template.code) if mailing.template_id else {}
    return {"channel": mailing.channel, "template": mailing.template.code if mailing.template_id else None,
            "subject": mailing.subject, "body": mailing.body, "variants": variants}


@task()
def send_mailing(mailing_id: int) -> dict:
    """Deliver a message to a selection, chunk by chunk; resumable (a rerun picks up the queued recipients; one
    that died mid-chunk leaves its unsettled emails uncertain, never sent twice)."""
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None or mailing.state == Mailing.State.DONE:
        return {}
    Mailing.objects.filter(pk=mailing.pk).update(state=Mailing.State.SENDING)
    mark_uncertain(list(Message.objects.filter(mailing=mailing, status=Message.Status.SENDING)))
    draft = draft_of(mailing)
    totals: dict[str, int] = {}
    while True:
        chunk = list(Recipient.objects.filter(mailing=mailing, status=Recipient.Status.QUEUED, message__isnull=True)
                     .order_by("pk")[:CHUNK])
        if not chunk:
            break
        if mailing.channel == Mailing.Channel.SMS:
            _send_sms_chunk(mailing, draft, chunk, totals)
            continue
        ids = _messages_for(mailing, draft, chunk)
        for status, n in deliver_batch(ids).items():
            totals[status] = totals.get(status, 0) + n
    Mailing.objects.filter(pk=mailing.pk).update(state=Mailing.State.DONE, finished_at=timezone.now())
    return totals


@transaction.atomic
def _messages_for(mailing: Mailing, draft: dict, chunk: list[Recipient]) -> list[int]:
    messages = []
    for r in chunk:
        subject, body = render(draft, {"person_id": r.person_id, "language": r.language, "merge": r.merge},
                               base_url=mailing.base_url, is_statutory=mailing.statutory)
        messages.append(Message(direction=Message.Direction.OUT, status=Message.Status.QUEUED, mailing=mailing,
                                person_id=r.person_id, address=r.address, subject=subject[:300], body=body,
                                message_id=email.utils.make_msgid(domain=settings.TILLIT_MAIL_DOMAIN)))

    insert_with_ids(Message, messages)
    for r, m in zip(chunk, messages, strict=True):
        r.message_id = m.pk
    Recipient.objects.bulk_update(chunk, ["message"])
    return [m.pk for m in messages]


def _send_sms_chunk(mailing: Mailing, draft: dict, chunk: list[Recipient], totals: dict) -> None:

    for r in chunk:
        _subject, text = render(draft, {"person_id": r.person_id, "language": r.language, "merge": r.merge},
                                base_url=mailing.base_url, is_statutory=True)
        try:
            reference, status, reason = send_sms(r.address, text), Recipient.Status.SENT, ""
        except Exception as exc:  # the provider's failure is this recipient's outcome
            reference, status, reason = "", Recipient.Status.FAILED, f"{type(exc).__name__}: {exc}"
        Recipient.objects.filter(pk=r.pk).update(status=status, reason=reason[:300], reference=str(reference)[:100],
                                                 updated_at=timezone.now())
        totals[status] = totals.get(status, 0) + 1


def progress(mailing: Mailing) -> dict:
    """Recipients per status, and how many are settled (anything but queued)."""
    counts = {s: 0 for s in Recipient.Status.values}
    for row in Recipient.objects.filter(mailing=mailing).values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    done = mailing.total - counts[Recipient.Status.QUEUED]
    labels = dict(Recipient.Status.choices)
    return {"counts": counts, "rows": [{"status": s, "label": labels[s], "n": n} for s, n in counts.items()],
            "done": done, "total": mailing.total,
            "percent": round(100 * done / mailing.total) if mailing.total else 100}


@transaction.atomic
def opt_out(person_id: int) -> bool:
    """The person asks for no more reps' messages; True the first time."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise DomainError(_("This link is not valid."))
    _row, created = OptOut.objects.get_or_create(person=person)
    if created:
        audit.record("messaging.opt_out", person, actor=None, channel="link", person_id=person.pk,
                     changes={"opted_out": [False, True]})
    return created


@receiver(settled)
def _recipient_rows(sender, message_ids, status, error, **kwargs):
    """How delivery ended, on the recipients' rows of a message to a selection (an interrupted one as failed)."""
    shown = {Message.Status.UNCERTAIN: Recipient.Status.FAILED}.get(status, status)
    if shown not in Recipient.Status.values:
        return
    reason = _("Delivery not known: the sending was interrupted.") if status == Message.Status.UNCERTAIN else error
    Recipient.objects.filter(message_id__in=message_ids).update(status=shown, reason=reason[:300],
                                                                 updated_at=timezone.now())
