"""The system owner's configuration of the service catalogue: which case types are public services, their titles
and introductions per language, who may ask, booking hours, and the form's fields."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError
from tillit.portal.models import LANGUAGES, FormField, Service
from tillit.registry.validation import Errors, clean_line


def _per_language(post, prefix: str, errors: Errors, *, max_length: int, multiline=False) -> dict:
    out = {}
    for lang in LANGUAGES:
        value = post.get(f"{prefix}_{lang}", "")
        text = (value or "").replace("\r\n", "\n").strip() if multiline else clean_line(
            value, f"{prefix}_{lang}", errors, max_length=max_length)
        if multiline and len(text) > max_length:
            errors.add(f"{prefix}_{lang}", _("At most %(n)s characters.") % {"n": max_length})
        if text:
            out[lang] = text
    return out


def _time(value, field, errors) -> datetime.time | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        errors.add(field, _("Write the time as HH:MM."))
        return None


def _small(value, field, errors, low, high, default) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        errors.add(field, _("A whole number from %(a)s to %(b)s.") % {"a": low, "b": high})
        return default
    return int(text)


def _require_publish(actor) -> None:
    from tillit.core.policy import require
    from tillit.portal.access import may_publish

    if getattr(actor, "pk", None):
        require(may_publish(actor), _("Only those who configure the organisation change the service catalogue."))


@transaction.atomic
def save_service(case_type, post, *, actor) -> Service:
    _require_publish(actor)
    errors = Errors()
    titles = _per_language(post, "title", errors, max_length=200)
    intros = _per_language(post, "intro", errors, max_length=5000, multiline=True)
    audience = post.get("audience", Service.Audience.ANYONE)
    if audience not in Service.Audience.values:
        errors.add("audience", _("Choose who may ask."))
    bookable = post.get("bookable") == "on"
    opens, closes = _time(post.get("opens"), "opens", errors), _time(post.get("closes"), "closes", errors)
    if bookable and (opens is None or closes is None):
        errors.add("opens", _("A bookable service needs its opening hours."))
    if opens and closes and closes <= opens:
        errors.add("closes", _("Closing is before opening."))
    values = {"titles": titles, "intros": intros, "audience": audience, "active": post.get("active") == "on",
              "feedback": post.get("feedback") == "on", "bookable": bookable, "opens": opens, "closes": closes,
              "slot_minutes": _small(post.get("slot_minutes"), "slot_minutes", errors, 5, 480, 30),
              "capacity": _small(post.get("capacity"), "capacity", errors, 1, 1000, 1),
              "days_ahead": _small(post.get("days_ahead"), "days_ahead", errors, 1, 366, 20)}
    errors.raise_if_any()
    service = Service.objects.filter(case_type=case_type).first()
    if service is None:
        service = Service.objects.create(case_type=case_type, **values)
    else:
        from tillit.core.text import as_version

        expected = as_version(post.get("version"))
        if expected is None or not Service.objects.filter(pk=service.pk, version=expected).update(
                version=service.version + 1, **values):
            raise ConflictError(_("Someone else changed this service meanwhile. Reload it and make your change "
                                  "again."))
        service.refresh_from_db()
    audit.record("portal.service.saved", service, actor=actor, channel="ui",
                 changes={k: [None, str(v)] for k, v in values.items()})
    return service


@transaction.atomic
def add_field(service: Service, post, *, actor) -> FormField:
    _require_publish(actor)
    errors = Errors()
    key = clean_line(post.get("key"), "key", errors, max_length=40, required=True).lower()
    if key and not key.replace("_", "").isalnum():
        errors.add("key", _("Letters, digits and _ only."))
    kind = post.get("kind", "")
    if kind not in FormField.Kind.values:
        errors.add("kind", _("Choose a kind of field."))
    labels = _per_language(post, "label", errors, max_length=200)
    if not labels:
        errors.add("label_nb", _("Give the field a label in at least one language."))
    helps = _per_language(post, "help", errors, max_length=500)
    choices = []
    if kind == FormField.Kind.CHOICE:
        for i, line in enumerate((post.get("choices") or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split("|")]
            value = parts[0][:60]
            choices.append({"value": value, "labels": {lang: text for lang, text in zip(LANGUAGES, parts[1:],
                                                                                         strict=False) if text}})
            if not value:
                errors.add("choices", _("Line %(n)s has no value.") % {"n": i})
        if not choices:
            errors.add("choices", _("A choice needs its options, one per line."))
    if key and service.fields.filter(key=key).exists():
        errors.add("key", _("The form has a field with this key already."))
    errors.raise_if_any()
    position = (service.fields.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    field = FormField.objects.create(service=service, key=key, kind=kind, labels=labels, helps=helps,
                                     choices=choices, required=post.get("required") == "on", position=position)
    audit.record("portal.field.added", service, actor=actor, channel="ui", changes={"field": [None, key]})
    return field


@transaction.atomic
def remove_field(service: Service, key: str, *, actor) -> None:
    _require_publish(actor)
    deleted, _rows = service.fields.filter(key=key).delete()
    if not deleted:
        raise ConflictError(_("The field is gone already."))
    audit.record("portal.field.removed", service, actor=actor, channel="ui", changes={"field": [key, None]})
