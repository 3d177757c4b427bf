"""Showing a domain error on a Django form: each message beside its field, the rest on top."""


def add_domain_errors(form, exc) -> None:
    for field, messages in exc.field_errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    if not exc.field_errors:
        form.add_error(None, exc.message)
