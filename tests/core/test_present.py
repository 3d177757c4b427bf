"""The list pages' quick row rendering escapes exactly as Django's own format_html_join."""

import re

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given
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
