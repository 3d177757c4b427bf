"""Kernel operations shared by every app: numbering, optimistic locking, grants, tokens."""

import datetime
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError, InvalidInput
from tillit.core.models import ApiToken, Grant, Sequence, Submission, hash_token
from tillit.core.scopes import ROLES, TREES, forget_grants


@transaction.atomic
def next_numbers(name: str, count: int = 1, *, start: int = 1) -> range:
    """Reserve `count` consecutive numbers of the sequence `name`; they are never handed out again."""
    seq, _created = Sequence.objects.select_for_update().get_or_create(name=name, defaults={"value": start - 1})
    Sequence.objects.filter(pk=name).update(value=F("value") + count)
    return range(seq.value + 1, seq.value + count + 1)


class AlreadySent(Exception):
    """The form with this one-time token was sent before; `url` is where its answer is."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def spend(token: str) -> Submission | None:
    """Spend a form's one-time token inside the caller's transaction (None for a form without one). A token spent
    before raises AlreadySent; one being spent by a concurrent request waits for it, then raises the same."""
    if not token:
        return None
    token = str(token)[:64]
    found = Submission.objects.filter(token=token).first()
    if found is not None:
        raise AlreadySent(found.url)
    try:
        with transaction.atomic():
            return Submission.objects.create(token=token)
    except IntegrityError:
        raise AlreadySent(Submission.objects.filter(token=token).values_list("url", flat=True).first() or "") from None


def spent_at(submission: Submission | None, url: str) -> None:
    """Record where the answer of a spent form is."""
    if submission is not None:
        Submission.objects.filter(pk=submission.pk).update(url=url[:300])


def hold(name: str) -> None:
    """Serialise work under `name` until the caller's transaction ends (a row lock on a named row): a second
    transaction asking for the same name waits for the first to commit."""
    Sequence.objects.select_for_update().get_or_create(name=f"lock:{name}"[:60], defaults={"value": 0})


def save_versioned(obj, changes: dict, expected_version: int | None) -> None:
    """Write the changed fields if nobody changed `obj` since `expected_version` was read.

    The check and the write are one UPDATE, so two concurrent editors cannot both win. An edit made at a
    version (`expected_version`) takes that version even when it changes nothing: a second editor who read the
    same version is then refused, so no one's "set it to this" is overwritten by someone who never saw it.
    """
    model = type(obj)
    version = obj.version if expected_version is None else expected_version
    if not changes:
        # Nothing to write, but the version is compared in an UPDATE (which takes the row lock), so "unchanged"
        # is never reported over a concurrent change; a client's edit consumes the version it was made at.
        step = 0 if expected_version is None else 1
        if model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + step) != 1:
            raise ConflictError(_("Someone else changed this record meanwhile. Reload it and make your change "
                                  "again."))
        obj.version = version + step
        return
    fields = {name: getattr(obj, name) for name in changes}
    if hasattr(obj, "updated_at"):
        fields["updated_at"] = obj.updated_at = timezone.now()
    rows = model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1, **fields)
    if rows != 1:
        raise ConflictError(_("Someone else changed this record meanwhile. Reload it and make your change again."))
    obj.version = version + 1


@transaction.atomic
def grant_access(user, role: str, tree: str, node, *, actor, channel="ui", valid_from=None, valid_to=None,
                 source: str = "") -> Grant:
    """Give `user` the `role` over `node`'s subtree; audited."""
    if role not in ROLES:
        raise InvalidInput(_("Unknown role."), field_errors={"role": [_("Unknown role.")]})
    if tree not in TREES:
        raise InvalidInput(_("Unknown tree."), field_errors={"tree": [_("Unknown tree.")]})
    grant = Grant.objects.create(user=user, role=role, tree=tree, node_id=node.pk, valid_from=valid_from,
                                 valid_to=valid_to, source=source)
    forget_grants(user)
    audit.record("core.grant.created", grant, actor=actor, channel=channel,
                 changes=audit.snapshot(grant, ["user_id", "role", "tree", "node_id", "valid_from", "valid_to",
                                                "source"]))
    return grant


@transaction.atomic
def revoke_grants(grants, *, actor, channel="ui") -> int:
    count = 0
    for grant in list(grants):
        audit.record("core.grant.revoked", grant, actor=actor, channel=channel,
                     changes={"role": [grant.role, None], "node_id": [grant.node_id, None]})
        grant.delete()
        forget_grants(grant.user)
        count += 1
    return count


def create_token(user, name: str = "", *, days: int | None = None, actor=None) -> tuple[ApiToken, str]:
    """A new personal API token, valid `days` (TILLIT_TOKEN_DAYS by default; 0 for no expiry). The raw value is
    returned once; only its hash is stored."""
    days = settings.TILLIT_TOKEN_DAYS if days is None else days
    if days < 0 or days > settings.TILLIT_TOKEN_MAX_DAYS:
        raise InvalidInput(_("A token is valid for at most %(days)s days.") % {"days": settings.TILLIT_TOKEN_MAX_DAYS},
                           field_errors={"days": [_("Between 1 and %(days)s.") % {
                               "days": settings.TILLIT_TOKEN_MAX_DAYS}]})
    raw = "tlt_" + secrets.token_urlsafe(32)
    expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
    token = ApiToken.objects.create(user=user, name=(name or "").strip()[:100], prefix=raw[:10],
                                    token_hash=hash_token(raw), expires_at=expires_at)
    audit.record("core.token.created", token, actor=actor or user, channel="ui",
                 changes={"name": [None, token.name], "user": [None, user.pk]})
    return token, raw


def revoke_tokens(tokens, *, actor, channel: str = "ui") -> int:
    """Revoke these tokens (a queryset); each revocation is in the audit trail. Returns how many."""
    now = timezone.now()
    revoked = 0
    for token in tokens.filter(revoked_at__isnull=True):
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
        audit.record("core.token.revoked", token, actor=actor, channel=channel, changes={"user": [token.user_id, None]})
        revoked += 1
    return revoked


def revoke_own_token(user, pk: int) -> None:
    if not revoke_tokens(ApiToken.objects.filter(pk=pk, user=user), actor=user):
        raise InvalidInput(_("No such token, or it is revoked already."), field_errors={"token": [_("No such token.")]})


def revoke_on_deactivation(sender, instance, **kwargs) -> None:
    """Signal receiver (post_save of the user): a login deactivated loses its tokens."""
    if not instance.is_active and instance.pk:
        revoke_tokens(ApiToken.objects.filter(user=instance), actor=None, channel="system")


def user_for_token(raw: str):
    token = (ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw), revoked_at__isnull=True)
             .first())
    if token is None or not token.usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
