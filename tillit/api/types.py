"""The API's shared input layer: bounded numbers, dates, enums and text without control characters.

Every request schema derives from `In`, every id, page and page size uses the types below, so a value
the database cannot hold (an id beyond 64 bits, a page whose offset overflows, a NUL byte) is refused
here with a 422 naming the field, before any endpoint runs.
"""

import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, field_validator

from tillit.core.errors import InvalidInput
from tillit.core.text import check_text, control_character_problem

MAX_ID = 2**63 - 1
MAX_PAGE_NUMBER = 100_000
MAX_PAGE_SIZE = 200



def _not_bool(value):
    # `true` is not the number 1 here, and "1.5" is not an id.
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("Must be a whole number.")
    return value


Id = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_PAGE_NUMBER)]
Version = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=2**31 - 1)]
Country = Literal["NO", "SE"]
Language = Literal["nb", "sv", "en"]
PageSize = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_PAGE_SIZE)]


def _iso_date(value: Any):
    """Dates in ISO form only (YYYY-MM-DD); an empty string is no date."""
    if value == "":
        return None
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError("Not a date: use YYYY-MM-DD.") from None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ValueError("Not a date: use YYYY-MM-DD.")


Day = Annotated[datetime.date, BeforeValidator(_iso_date)]
OptionalDay = Annotated[datetime.date | None, BeforeValidator(_iso_date)]


def _line(value: str) -> str:
    return check_text(value, multiline=False)


def _text(value: str) -> str:
    return check_text(value, multiline=True)


Line = Annotated[str, AfterValidator(_line), Field(max_length=300)]
Text = Annotated[str, AfterValidator(_text), Field(max_length=100_000)]
Query = Annotated[str, AfterValidator(_line), Field(max_length=200)]
Tag = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=50)]
Bool = StrictBool


class In(Schema):
    """A request body: no string anywhere in it may hold a control character; `Line` fields also
    refuse line breaks."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        return _walk(value)


def _walk(value):
    if isinstance(value, str):
        return check_text(value, multiline=True)
    if isinstance(value, list):
        return [_walk(v) for v in value]
    return value


def form_text(*, multiline: bool = False, **fields: str) -> None:
    """Check multipart form fields (which bypass the JSON schemas) the same way; 422 naming each."""
    errors = {}
    for name, value in fields.items():
        problem = control_character_problem(value or "", multiline=multiline)
        if problem:
            errors[name] = [problem]
    if errors:
        raise InvalidInput(f"{next(iter(errors))}: {next(iter(errors.values()))[0]}", field_errors=errors)
