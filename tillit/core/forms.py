"""Showing a domain error on a Django form: each message beside its field, the rest on top; a quick drop-down."""

from django import forms


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
