"""Showing a domain error on a Django form: each message beside its field, the rest on top; a quick drop-down;
the quick widget renderer."""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.safestring import mark_safe

from tillit.core.present import esc


def add_domain_errors(form, exc) -> None:
    for field, messages in exc.field_errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    if not exc.field_errors:
        form.add_error(None, exc.message)


class QuickSelect(forms.Select):
    """A drop-down of plain (value, label) choices written in one string operation: Django renders each option
    through a template, which for a list of every org unit was a sixth of the case page."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.forms.utils import flatatt
        from django.utils.safestring import mark_safe

        from tillit.core.present import options

        chosen = value[0] if isinstance(value, list | tuple) and value else value
        chosen = "" if chosen is None else str(chosen)
        head = flatatt({**self.build_attrs(self.attrs, attrs), "name": name})
        return mark_safe(f"<select{head}>{options(self.choices, chosen)}</select>")  # noqa: S308 - both escaped


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"` each, a True value bare, a False one left out."""
    return "".join(f" {esc(name)}" if value is True else f' {esc(name)}="{esc(value)}"'
                   for name, value in attrs.items() if value is not False)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown = "" if value is None else f' value="{esc(value)}"'
    return f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict) -> str:
    """django/forms/widgets/textarea.html."""
    value = widget["value"]
    return (f'<textarea name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            f'{esc(localize(value)) if value else ""}</textarea>')


# Django's widget templates that are only input.html, and textarea.html: written here in Python, the same
# output (tests/core/test_present.py compares them). A case page renders five widgets; through templates they
# were a tenth of its time.
_INPUTS = ("input", "text", "checkbox", "hidden", "number", "email", "date", "password", "url", "search", "tel")
_QUICK = {f"django/forms/widgets/{name}.html": _input for name in _INPUTS} | {
    "django/forms/widgets/textarea.html": _textarea}


class QuickRenderer(DjangoTemplates):
    """Django's default form renderer, with the plain inputs and text areas written in Python."""

    def render(self, template_name, context, request=None):
        quick = _QUICK.get(template_name)
        if quick is not None:
            return mark_safe(quick(context["widget"]))  # noqa: S308 - every value escaped
        return super().render(template_name, context, request)
