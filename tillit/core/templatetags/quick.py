"""Template tags for parts every page repeats, written in Python (tillit.core.forms)."""

from django import template

from tillit.core.forms import form_fields as _form_fields

register = template.Library()


@register.simple_tag
def form_fields(form):
    """`{% form_fields form %}`: the form's errors and fields, each labelled (tillit.core.forms.form_fields)."""
    return _form_fields(form) if hasattr(form, "visible_fields") else ""  # a form the page does not have: nothing
