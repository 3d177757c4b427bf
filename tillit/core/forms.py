"""Showing a domain error on a Django form: each message beside its field, the rest on top; a quick drop-down;
the quick widget renderer."""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.choices import BaseChoiceIterator
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


class PlainChoices(BaseChoiceIterator):
    """(value, label) pairs, already plain, that Django's fields and widgets keep as they are: set as a field's
    choices, a list is normalised three times over (the field, its widget, each pair checked for nesting and lazy
    text), which for the case page's unit list cost more than writing the drop-down."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)


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


def form_fields(form) -> str:
    """A form's own errors, hidden fields, then each visible field in its `.field` block (label, widget, errors,
    help text): what every form of the staff pages shows, written in one string operation. Through an included
    template the case page's two forms cost a tenth of the page. tests/core/test_present.py holds the markup
    this writes, as a template, and compares the two for the project's forms and generated ones."""
    from django.utils.safestring import SafeData
    from django.utils.text import capfirst

    top = form.non_field_errors()
    parts = ['<div class="error" role="alert">' + "".join(f"<p>{esc(e)}</p>" for e in top) + "</div>" if top else "",
             "\n", "".join(str(field) for field in form.hidden_fields()), "\n"]
    for field in form.visible_fields():
        errors, label, help_text = field.errors, field.label, field.help_text
        shown = capfirst(label)
        shown = shown if not isinstance(label, SafeData) else mark_safe(shown)  # noqa: S308 - safe already
        errors_html = "".join(f'<span class="error" id="{esc(field.html_name)}-error">{esc(e)}</span>' for e in errors)
        parts.append(f'\n<div class="field{" invalid" if errors else ""}">\n'
                     f'  <label for="{esc(field.id_for_label)}">{esc(shown)}</label>\n'
                     f"  {field}\n"
                     f"  {errors_html}\n"
                     f'  {f"<small>{esc(help_text)}</small>" if help_text else ""}\n'
                     "</div>\n")
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped, the widgets are Django's safe HTML
