# ruff: noqa: E501 - the markup below is the template as it was, one line per line
"""The case timeline written in Python (tillit.cases.timeline) is what its template wrote."""

import datetime

from django.contrib.auth import get_user_model
from django.template import Context, engines
from django.utils import timezone, translation
from hypothesis import example, given
from hypothesis import strategies as st

from tillit.cases.models import CaseEvent
from tillit.cases.timeline import timeline_html

# The markup of the timeline, as the case page's template wrote it before the timeline was written in Python.
TIMELINE_MARKUP = """{% load i18n %}{% for e in events %}<li class="event {{ e.kind }}{% if e.public %} public{% endif %}">
  <time>{{ e.at|date:"SHORT_DATETIME_FORMAT" }}</time> · {{ e.actor.username|default:"system" }} · <b>{{ e.get_kind_display }}</b>
  {% if e.kind == "state" %}: {{ e.from_shown }} → {{ e.to_shown }}{% elif e.kind == "transfer" and e.data.from_name %}: {{ e.data.from_name }} → {{ e.data.to_name }}{% elif e.kind == "assignment" %}: {{ e.data.to_name|default:"–" }}{% elif e.kind == "link" %}: {{ e.data.number }}{% elif e.kind == "document" %}: <a href="{% url 'document' e.data.document %}">{{ e.data.title }}</a>{% if e.data.what == "version" %} ({% translate "version" %} {{ e.data.number }}){% elif e.data.what == "removed" %} ({% translate "removed" %}){% elif e.data.what == "deleted" %} ({% translate "deleted" %}){% endif %}{% endif %}
  {% if e.kind == "message_out" or e.kind == "message_in" %}{% if e.data.subject %}: {{ e.data.subject }}{% endif %}{% endif %}
  {% if e.delivery %}<span class="delivery {{ e.delivery }}" data-delivery="{{ e.delivery }}">[{% if e.delivery == "sent" %}{% translate "sent" %}{% elif e.delivery == "failed" %}{% translate "not delivered" %}{% else %}{% translate "queued" %}{% endif %}]</span>{% endif %}
  {% if e.data.problem %}<small class="error">{{ e.data.problem }}</small>{% endif %}
  {% if e.data.attachments %}<small>{% translate "Attachments" %}: {{ e.data.attachments|join:", " }}</small>{% endif %}
  {% if e.data.refused %}<small class="error">{% translate "Not kept as documents" %}: {{ e.data.refused|join:"; " }}</small>{% endif %}
  {% if e.public %}<small class="muted">({% translate "visible to the person" %})</small>{% endif %}
  {% if e.body %}<div class="body">{{ e.body|linebreaksbr }}</div>{% endif %}
</li>{% endfor %}"""

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
    data = dict(spec["data"])
    if spec["kind"] == "document":
        data["document"] = 17  # the template cannot link a document entry without its document
    event = CaseEvent(kind=spec["kind"], public=spec["public"], body=spec["body"], data=data, at=spec["at"])
    event.actor = None if spec["actor"] is None else get_user_model()(username=spec["actor"])
    event.from_shown, event.to_shown, event.delivery = spec["from_shown"], spec["to_shown"], spec["delivery"]
    return event


@given(st.lists(_EVENT, max_size=4), st.sampled_from(["en", "nb", "sv"]))
@example([{"kind": "document", "public": True, "body": "a\n<b>", "actor": None, "from_shown": "", "to_shown": "",
           "delivery": "failed", "at": datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC),
           "data": {"what": "version", "number": 3, "title": "<Avtale>", "attachments": ["a&b", "c"]}}], "nb")
def test_the_timeline_is_what_the_template_wrote(specs, language):
    events = [_event(spec) for spec in specs]
    with translation.override(language), timezone.override("Europe/Oslo"):
        expected = engines["django"].engine.from_string(TIMELINE_MARKUP).render(Context({"events": events}))
        assert timeline_html(events) == expected


def test_a_document_entry_without_its_document_is_named_not_linked():
    event = CaseEvent(kind="document", public=False, body="", data={"title": "Avtale"},
                      at=datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC))
    event.actor, event.delivery = None, None
    html = timeline_html([event])
    assert ": Avtale" in html and "<a " not in html
