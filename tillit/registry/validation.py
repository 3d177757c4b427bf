"""Turning raw input (form, API, import row) into clean values, with a message per field.

One validator per record kind, shared by the UI, the API and the importer so that the same
input gets the same answer everywhere.
"""

import datetime
import decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tillit.core.errors import InvalidInput
from tillit.core.text import control_character_problem
from tillit.registry.fields import ENTERED
from tillit.registry.identity import parse_national_id, parse_phone

PERSON_FIELDS = ENTERED
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "address_line": 200, "postal_code": 10, "city": 100,
               "position": 100, "reason": 200}


class Errors:
    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str):
        self.by_field.setdefault(field, []).append(str(message))

    def raise_if_any(self):
        if self.by_field:
            first = next(iter(self.by_field.items()))
            raise InvalidInput(f"{first[0]}: {first[1][0]}", field_errors=self.by_field)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def clean_line(value, field: str, errors: Errors, *, max_length: int, required: bool = False) -> str:
    """One line of text: stripped, no control characters or line breaks, at most `max_length`."""
    text = _text(value)
    problem = control_character_problem(text, multiline=False)
    if problem:
        errors.add(field, _(problem))
    elif required and not text:
        errors.add(field, _("This field is required."))
    elif len(text) > max_length:
        errors.add(field, _("At most %(n)d characters.") % {"n": max_length})
    return text


def parse_date(value, field: str, errors: Errors) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # the usual ISO form, without strptime's cost; what it refuses goes through the formats below
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    errors.add(field, _("“%(value)s” is not a date (use YYYY-MM-DD or DD.MM.YYYY).") % {"value": text})
    return None


def parse_decimal(value, field: str, errors: Errors, *, low=0, high=100) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = decimal.Decimal(str(value).replace(",", ".").strip())
    except decimal.InvalidOperation:
        errors.add(field, _("“%(value)s” is not a number.") % {"value": value})
        return None
    if not number.is_finite() or not (low <= number <= high):
        errors.add(field, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
        return None
    return number.quantize(decimal.Decimal("0.01"))


def parse_bool(value, field: str, errors: Errors) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("1", "true", "yes", "ja", "j", "x"):
        return True
    if text in ("0", "false", "no", "nei", "nej", "n"):
        return False
    errors.add(field, _("“%(value)s” is not yes or no.") % {"value": value})
    return None


def clean_person(data: dict, *, partial: bool = False, errors: Errors | None = None) -> dict:
    """Validated person fields from `data`; only keys present in `data` when `partial`."""
    own = errors is None
    errors = errors or Errors()
    out = {}
    keys = [k for k in PERSON_FIELDS if k in data] if partial else PERSON_FIELDS
    for key in keys:
        value = data.get(key)
        if key in ("first_name", "last_name"):
            out[key] = clean_line(value, key, errors, max_length=MAX_LENGTHS[key], required=True)
        elif key in ("address_line", "postal_code", "city"):
            out[key] = clean_line(value, key, errors, max_length=MAX_LENGTHS[key])
        elif key == "birth_date":
            out[key] = parse_date(value, key, errors)
            if out[key] and out[key] > datetime.date.today():
                errors.add(key, _("A birth date cannot be in the future."))
        elif key == "national_id":
            text = _text(value)
            out[key] = None
            if text:
                try:
                    out[key], country, birth = parse_national_id(text)
                    out.setdefault("_id_country", country)
                    out["_id_birth_date"] = birth
                except ValueError as exc:
                    errors.add(key, str(exc))
        elif key == "email":
            text = _text(value).lower()
            if text:
                try:
                    validate_email(text)
                except ValidationError:
                    errors.add(key, _("“%(value)s” is not an email address.") % {"value": text})
            out[key] = text
        elif key == "phone":
            text = _text(value)
            out[key] = ""
            if text:
                try:
                    out[key] = parse_phone(text, _text(data.get("country")) or "NO")
                except ValueError as exc:
                    errors.add(key, str(exc))
        elif key == "country":
            text = _text(value).upper() or "NO"
            if text not in ("NO", "SE"):
                errors.add(key, _("Country must be NO or SE."))
            out[key] = text
        elif key == "preferred_language":
            text = _text(value).lower() or "nb"
            if text not in dict(settings.LANGUAGES):
                errors.add(key, _("Language must be one of nb, sv, en."))
            out[key] = text
        elif key in ("unit", "registered_at"):
            out[key] = value or None
    # The birth date follows from the national id; a contradicting one is an error.
    birth = out.pop("_id_birth_date", None)
    out.pop("_id_country", None)
    if birth:
        if out.get("birth_date") and out["birth_date"] != birth:
            errors.add("birth_date", _("The birth date does not match the national identity number."))
        else:
            out["birth_date"] = birth
    if own:
        errors.raise_if_any()
    return out
