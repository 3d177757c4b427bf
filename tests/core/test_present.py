"""The list pages' quick row rendering escapes exactly as Django's own format_html_join."""

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
