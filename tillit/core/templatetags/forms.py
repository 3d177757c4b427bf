"""`{% form_fields form %}`: what every form of the staff pages shows (templates/_form_fields.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("_form_fields.html")
def form_fields(form):
    """The form's own errors, its hidden fields, then each visible field labelled, with its errors and help."""
    return {"form": form if hasattr(form, "visible_fields") else None}  # a form the page does not have: nothing
