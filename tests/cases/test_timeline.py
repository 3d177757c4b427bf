"""The case timeline's entries (templates/cases/_timeline.html) for generated events, in each language: every
value escaped, and a document entry linked only while its document is there."""

import datetime

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone, translation
from hypothesis import example, given
from hypothesis import strategies as st

from tillit.cases.models import CaseEvent

_TEXT = st.text(alphabet=st.sampled_from("aZø<>&\"' \né"), max_size=6)
_VALUE = st.one_of(_TEXT, st.integers(-5, 5000), st.none(), st.booleans())
_DATA = st.fixed_dictionaries({}, optional={
    "from_name": _VALUE, "to_name": _VALUE, "number": _VALUE, "title": _VALUE, "subject": _VALUE,
    "what": st.sampled_from(["version", "removed", "deleted", "linked"]), "problem": _VALUE,
    "attachments": st.lists(_TEXT, max_size=3), "refused": st.lists(_TEXT, max_size=3)})
_EVENT = st.fixed_dictionaries({
    "kind": st.sampled_from([k for k, _label in CaseEvent.Kind.choices]), "public": st.booleans(), "body": _TEXT,
    "data": _DATA, "actor": st.one_of(st.none(), _TEXT), "from_shown": _TEXT, "to_shown": _TEXT,
    "delivery": st.one_of(st.none(), st.sampled_from(["sent", "failed", "queued", ""])),
    "at": st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2040, 1, 1),
                       timezones=st.just(datetime.UTC))})


def _event(spec) -> CaseEvent:
    event = CaseEvent(kind=spec["kind"], public=spec["public"], body=spec["body"], data=dict(spec["data"]),
                      at=spec["at"])
    event.actor = None if spec["actor"] is None else get_user_model()(username=spec["actor"])
    event.from_shown, event.to_shown, event.delivery = spec["from_shown"], spec["to_shown"], spec["delivery"]
    return event


@given(st.lists(_EVENT, max_size=4), st.sampled_from(["en", "nb", "sv"]))
@example([{"kind": "document", "public": True, "body": "a\n<b>", "actor": None, "from_shown": "", "to_shown": "",
           "delivery": "failed", "at": datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC),
           "data": {"what": "version", "number": 3, "title": "<Avtale>", "attachments": ["a&b", "c"]}}], "nb")
def test_every_entry_is_shown_with_its_values_escaped(specs, language):
    events = [_event(spec) for spec in specs]
    with translation.override(language), timezone.override("Europe/Oslo"):
        html = render_to_string("cases/_timeline.html", {"events": events})
    assert html.count('<li class="event ') == len(events)
    assert "<b>" not in html.replace("<b>", "", sum(1 for _e in events))  # only the kinds' own <b> tags
    assert "<Avtale>" not in html and "a&b" not in html


def test_a_document_entry_links_its_document_while_it_is_there():
    at = datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC)
    gone = CaseEvent(kind="document", public=False, body="", data={"title": "Avtale"}, at=at)
    there = CaseEvent(kind="document", public=False, body="", data={"title": "Avtale", "document": 17}, at=at)
    for event in (gone, there):
        event.actor, event.delivery = None, None
    html = render_to_string("cases/_timeline.html", {"events": [gone]})
    assert ": Avtale" in html and "<a " not in html
    assert 'href="/documents/17/"' in render_to_string("cases/_timeline.html", {"events": [there]})
