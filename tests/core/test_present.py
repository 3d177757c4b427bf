"""The list pages' quick row rendering escapes exactly as Django's own format_html_join."""

import datetime
import re

import pytest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import example, given
from hypothesis import strategies as st

from tillit.core.present import html_rows, options

_VALUE = st.one_of(st.text(), st.integers(), st.none(), st.text().map(mark_safe),
                   st.sampled_from([gettext_lazy("overdue"), "<script>alert('x')</script>", 'a "quoted" & <b>']))


@given(st.lists(st.tuples(_VALUE, _VALUE, _VALUE), max_size=5))
def test_html_rows_escape_as_format_html_join(rows):
    pattern = '<tr data-x="{}"><td>{}</td><td>{}</td></tr>'
    assert html_rows(pattern, rows) == format_html_join("\n", pattern, rows)


def test_options_mark_the_chosen_value_and_escape_labels():
    html = options([(1, "Øst & <Vest>"), (2, 'To "to"')], "2")
    assert html == ('<option value="1">Øst &amp; &lt;Vest&gt;</option>'
                    '<option value="2" selected>To &quot;to&quot;</option>')


@given(st.lists(st.tuples(st.one_of(st.integers(0, 3), st.sampled_from(["1", "2", "<x>"]), st.booleans()), _VALUE),
                max_size=6), st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["1", "<x>"])))
def test_options_are_the_same_written_again_from_memory(choices, selected):
    chosen = str(selected or "")
    expected = format_html_join("", '<option value="{}"{}>{}</option>', (
        (value, mark_safe(" selected") if str(value) == chosen else "", label) for value, label in choices))
    assert options(choices, selected) == expected
    assert options(choices, selected) == expected  # the second time from the options written once


def test_the_quick_select_renders_as_django_select():
    from django import forms

    from tillit.core.forms import QuickSelect

    class Form(forms.Form):
        quick = forms.ChoiceField(label="Unit", widget=QuickSelect, choices=[(1, "Øst & Vest"), (2, "<Nord>")])
        plain = forms.ChoiceField(label="Unit", choices=[(1, "Øst & Vest"), (2, "<Nord>")])

    form = Form(initial={"quick": 2, "plain": 2})
    quick = str(form["quick"]).replace("\n", "").replace('id="id_quick"', "").replace('name="quick"', "")
    plain = str(form["plain"]).replace("\n", "").replace('id="id_plain"', "").replace('name="plain"', "")
    assert re.sub(r">\s+<", "><", quick) == re.sub(r">\s+<", "><", plain)


def test_choice_labels_follow_the_language_and_match_django(db):
    from django.db import models
    from django.utils import translation

    from tillit.core.models import AuditEntry

    entry = AuditEntry(channel="import", action="x", object_type="y")
    field = AuditEntry._meta.get_field("channel")
    for language in ("nb", "sv", "en"):
        with translation.override(language):
            assert entry.get_channel_display() == models.Model._get_FIELD_display(entry, field)
    entry.channel = "ui"
    with translation.override("nb"):
        nb = entry.get_channel_display()
    with translation.override("en"):
        assert entry.get_channel_display() != nb  # the table is kept per language
    entry.channel = "no-such-channel"
    assert entry.get_channel_display() == "no-such-channel"


@pytest.mark.django_db
def test_the_top_bar_fills_the_requests_values_into_its_frame(world):
    """The frame is shared by everyone with the same rights; the token, address, search text and name are each
    request's own, escaped, and the token is one the CSRF check accepts."""
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.staff)
    world.a.staff.username = "<b>staff</b>"
    world.a.staff.save(update_fields=["username"])
    html = client.get("/people/?q=%3Ci%3EHansen").content.decode()
    bar = html[html.index('<header class="top">'):html.index("</header>")]
    assert 'value="&lt;i&gt;Hansen"' in bar and ">&lt;b&gt;staff&lt;/b&gt;</a>" in bar
    assert 'name="next" value="/people/?q=%3Ci%3EHansen"' in bar
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', bar).group(1)
    response = client.post("/i18n/setlang/", {"language": "sv", "next": "/people/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert '<html lang="sv">' in client.get("/people/").content.decode()


_OLD_HISTORY = ('{% for a in history %}<tr><td>{{ a.at|date:"SHORT_DATETIME_FORMAT" }}</td><td>{{ a.actor.username|'
                'default:"system" }}</td><td>{{ a.get_channel_display }}</td><td>{{ a.action }}</td>\n<td>{% for '
                'field, pair in a.changes.items %}{% if field != "national_id" %}<div><b>{{ field }}</b>: {{ pair.0|'
                'default_if_none:"–" }} → {{ pair.1|default_if_none:"–" }}</div>{% else %}<div><b>{{ field }}</b>: ***'
                '</div>{% endif %}{% endfor %}</td></tr>{% if not forloop.last %}\n{% endif %}{% endfor %}')
_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
                     lambda inner: st.lists(inner, max_size=3), max_leaves=6)
_CHANGES = st.dictionaries(st.sampled_from(["email", "national_id", "<i>f</i>", "phone"]), _JSON, max_size=3)


@given(st.lists(st.tuples(st.datetimes(), st.sampled_from(["", "<b>kari</b>"]), st.sampled_from(["ui", "api", "x"]),
                          st.text(max_size=20), _CHANGES), max_size=4),
       st.sampled_from(["nb", "sv", "en"]))
def test_history_rows_are_what_the_template_made(entries, language):
    """The person page's history rows from Python are the template's own, value for value, in each language."""
    import datetime

    from django.template import Context, Template
    from django.utils import timezone, translation

    from tillit.core.audit import history_rows
    from tillit.core.models import AuditEntry
    from tillit.core.models import User as Actor

    rows = []
    for at, actor, channel, action, changes in entries:
        entry = AuditEntry(at=timezone.make_aware(at, datetime.UTC) if at.year > 1 else at, channel=channel,
                           action=action, changes=changes, object_type="x", object_id=1)
        if actor:
            entry.actor = Actor(pk=1, username=actor)
        rows.append(entry)
    with translation.override(language):
        assert history_rows(rows) == Template(_OLD_HISTORY).render(Context({"history": rows}))


_ATTR_VALUE = st.one_of(st.booleans(), st.integers(), st.text(max_size=8), st.just(gettext_lazy("overdue")),
                        st.text(max_size=8).map(mark_safe))


@given(st.sampled_from(["input", "text", "checkbox", "hidden", "number", "email", "date", "password", "url",
                        "search", "tel", "textarea"]),
       st.text(max_size=10), st.one_of(st.none(), st.text(max_size=10), st.integers(), st.floats(allow_nan=False),
                                      st.text(max_size=6).map(mark_safe), st.just("")),
       st.dictionaries(st.sampled_from(["id", "class", "required", "placeholder", "<x>", "rows", "checked"]),
                       _ATTR_VALUE, max_size=4),
       st.sampled_from(["nb", "sv", "en"]))
@example("text", "<n>", "<v>", {"<x>": True, "hidden": False, "placeholder": gettext_lazy("overdue")}, "nb")
@example("textarea", "body", 1234.5, {"rows": 3, "required": True}, "nb")
def test_the_quick_widget_renderer_writes_what_djangos_templates_do(name, field, value, attrs, language):
    from django.forms.renderers import DjangoTemplates
    from django.utils import translation

    from tillit.core.forms import QuickRenderer

    template = f"django/forms/widgets/{name}.html"
    context = {"widget": {"name": field, "value": value, "attrs": attrs, "type": name, "template_name": template,
                          "is_hidden": False, "required": False}}
    with translation.override(language):
        assert QuickRenderer().render(template, context) == DjangoTemplates().render(template, context)


@given(st.one_of(st.dates(), st.datetimes(), st.datetimes(timezones=st.just(datetime.UTC))),
       st.sampled_from(["SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "DATE_FORMAT", "DATETIME_FORMAT"]),
       st.sampled_from(["nb", "sv", "en"]))
def test_dates_are_written_as_the_date_filter_writes_them(value, fmt, language):
    from django.template.defaultfilters import date as date_filter
    from django.utils import timezone, translation

    from tillit.core.present import Dates

    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime) and "TIME" in fmt:
        return  # Django refuses a time format for a date, and so does Dates
    with translation.override(language):
        aware = isinstance(value, datetime.datetime) and timezone.is_aware(value)
        shown = timezone.localtime(value) if aware else value
        assert Dates(fmt)(value) == date_filter(shown, fmt)


def test_a_frame_is_rendered_once_per_key_and_fills_each_requests_slots():
    from django.template import Context, Template

    calls = []

    class Counted:
        def __str__(self):
            calls.append(1)
            return "static"

    page = Template("{% load chrome %}{% frame kind %}<p>{{ fixed }} {{ kind }}: {% slot who %}</p>{% endframe %}")
    first = page.render(Context({"kind": "a", "who": "<b>Kari</b>", "fixed": Counted()}))
    second = page.render(Context({"kind": "a", "who": "Ola", "fixed": Counted()}))
    other = page.render(Context({"kind": "b", "who": "Ola", "fixed": Counted()}))
    assert first == "<p>static a: &lt;b&gt;Kari&lt;/b&gt;</p>" and second == "<p>static a: Ola</p>"
    assert other == "<p>static b: Ola</p>" and len(calls) == 2  # the body rendered once per key, not per request
    assert Template("{% load chrome %}{% slot who %}").render(Context({"who": "<i>"})) == "&lt;i&gt;"
    keyed_by_a_list = Template("{% load chrome %}{% frame kinds %}{{ kinds|length }}{% endframe %}")
    assert keyed_by_a_list.render(Context({"kinds": [1, 2]})) == "2"


def test_a_frame_refuses_a_csrf_token_and_a_slot_in_a_loop():
    from django.template import Context, Template, TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        Template("{% load chrome %}{% frame %}<form>{% csrf_token %}</form>{% endframe %}")
    looped = Template("{% load chrome %}{% frame %}{% for x in xs %}{% slot x %}{% endfor %}{% endframe %}")
    with pytest.raises(TemplateSyntaxError):
        looped.render(Context({"xs": [1, 2]}))


# The markup tillit.core.forms.form_fields writes, as the template it replaced; the two must agree.
FORM_FIELDS_MARKUP = """\
{% if form.non_field_errors %}<div class="error" role="alert">{% for e in form.non_field_errors %}<p>{{ e }}</p>\
{% endfor %}</div>{% endif %}
{% for field in form.hidden_fields %}{{ field }}{% endfor %}
{% for field in form.visible_fields %}
<div class="field{% if field.errors %} invalid{% endif %}">
  <label for="{{ field.id_for_label }}">{{ field.label|capfirst }}</label>
  {{ field }}
  {% for e in field.errors %}<span class="error" id="{{ field.html_name }}-error">{{ e }}</span>{% endfor %}
  {% if field.help_text %}<small>{{ field.help_text }}</small>{% endif %}
</div>
{% endfor %}
"""


def _as_template(form) -> str:
    from django.template import Context, engines

    engine = engines["django"].engine
    return engine.from_string(FORM_FIELDS_MARKUP).render(Context({"form": form}))


_TEXT = st.text(alphabet=st.sampled_from("aZø<>&\"' é"), max_size=8)
_LABEL = st.one_of(_TEXT, _TEXT.map(mark_safe), st.sampled_from([gettext_lazy("overdue"), ""]))


@given(st.lists(st.tuples(st.sampled_from(["text", "area", "choice", "check", "date", "number", "hidden"]),
                          _LABEL, _TEXT, st.booleans(), _TEXT), min_size=1, max_size=5),
       st.one_of(st.none(), _TEXT), st.booleans())
@example([("text", "navn", "", True, "Eva & <Ole>")], "Noe gikk galt", True)
def test_form_fields_writes_what_the_template_wrote(fields, top_error, bound):
    from django import forms

    from tillit.core.forms import QuickSelect, form_fields

    made = {}
    for i, (kind, label, help_text, required, _value) in enumerate(fields):
        common = {"label": label, "help_text": help_text, "required": required}
        made[f"f{i}"] = {
            "text": lambda c: forms.CharField(max_length=3, **c),
            "area": lambda c: forms.CharField(widget=forms.Textarea, **c),
            "choice": lambda c: forms.ChoiceField(choices=[("1", "Øst & Vest"), ("2", "<Nord>")], widget=QuickSelect,
                                                  **c),
            "check": lambda c: forms.BooleanField(**c),
            "date": lambda c: forms.DateField(**c),
            "number": lambda c: forms.IntegerField(**c),
            "hidden": lambda c: forms.IntegerField(widget=forms.HiddenInput, **c),
        }[kind](common)
    form_class = type("Generated", (forms.Form,), made)
    data = {f"f{i}": value for i, (*_rest, value) in enumerate(fields)}
    form = form_class(data if bound else None, initial=None if bound else data)
    if bound:
        form.is_valid()
        if top_error:
            form.add_error(None, top_error)
    assert form_fields(form) == _as_template(form)


def test_form_fields_matches_the_template_for_the_projects_forms(db):
    from tillit.cases.forms import NoteForm, TransferForm
    from tillit.core.forms import form_fields
    from tillit.documents.forms import EditForm, LinkForm, NewDocumentForm, ShareForm, VersionForm
    from tillit.registry.forms import EmploymentForm, ImportForm, MembershipForm, PersonForm, RoleForm, StatusForm

    for form_class in (NoteForm, TransferForm, EditForm, LinkForm, NewDocumentForm, ShareForm, VersionForm,
                       EmploymentForm, ImportForm, MembershipForm, PersonForm, RoleForm, StatusForm):
        for form in (form_class(), form_class(data={"version": "x"})):
            form.is_valid() if form.is_bound else None
            assert form_fields(form) == _as_template(form), form_class.__name__
            assert "<label" in form_fields(form)
