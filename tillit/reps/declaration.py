"""The confidentiality declaration: the organisation's text (per language, versioned) and reps' signatures."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError, InvalidInput
from tillit.core.text import control_character_problem
from tillit.reps.models import Declaration, Signature

LANGUAGES = ("nb", "sv", "en")


def _forget_reps() -> None:
    from tillit.core.models import Grant
    from tillit.core.scopes import REP_ROLES, forget_grants_of

    forget_grants_of(Grant.objects.filter(role__in=REP_ROLES).values_list("user_id", flat=True).distinct())


def current() -> Declaration | None:
    return Declaration.objects.order_by("-version").first()


def has_signed(user) -> bool:
    """Whether the user signed the current text (True when the organisation has set none)."""
    declaration = current()
    return declaration is None or Signature.objects.filter(declaration=declaration, user=user).exists()


@transaction.atomic
def publish(texts: dict, *, actor, expected_version: int | None) -> Declaration:
    """A new version of the text; every rep signs again before lists open."""
    errors = {}
    clean = {}
    for language in LANGUAGES:
        text = str(texts.get(language) or "").strip()
        if len(text) > 20_000 or control_character_problem(text, multiline=True):
            errors[f"text_{language}"] = [_("At most 20,000 characters, no control characters.")]
        if text:
            clean[language] = text
    if not clean:
        errors["text_nb"] = [_("Write the declaration in at least one language.")]
    if errors:
        raise InvalidInput(_("The declaration was not saved."), field_errors=errors)
    latest = current()
    if (latest.version if latest else 0) != (expected_version or 0):
        raise ConflictError(_("Someone else published a new version meanwhile. Reload it."))
    try:
        declaration = Declaration.objects.create(version=(latest.version if latest else 0) + 1, texts=clean,
                                                 created_by=actor)
    except IntegrityError:
        raise ConflictError(_("Someone else published a new version meanwhile. Reload it.")) from None
    _forget_reps()  # every rep signs the new text before their grants open member data again
    audit.record("reps.declaration.published", declaration, actor=actor, channel="ui",
                 changes={"version": [latest.version if latest else None, declaration.version],
                          "languages": [None, sorted(clean)]})
    return declaration


@transaction.atomic
def sign(user, *, name: str, version: int | None, language: str) -> Signature:
    declaration = current()
    name = (name or "").strip()
    errors = {}
    if declaration is None:
        errors["version"] = [_("There is no declaration to sign.")]
    elif version != declaration.version:
        raise ConflictError(_("The declaration changed while you read it. Read the new text and sign again."))
    if not name or len(name) > 200 or control_character_problem(name, multiline=False):
        errors["name"] = [_("Write your full name, on one line.")]
    if errors:
        raise InvalidInput(_("The declaration was not signed."), field_errors=errors)
    signature, _created = Signature.objects.get_or_create(declaration=declaration, user=user, defaults={
        "name": name, "language": language if language in LANGUAGES else "nb"})
    from tillit.core.scopes import forget_grants

    forget_grants(user)  # the rep's grants open member data from now on
    audit.record("reps.declaration.signed", signature, actor=user, channel="rep",
                 changes={"version": [None, declaration.version], "name": [None, name]})
    return signature
