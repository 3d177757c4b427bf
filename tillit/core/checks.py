"""Tillit's own deployment checks, run by `tillit check --deploy` beside Django's."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):
    problems = []
    if settings.DEBUG:
        problems.append(Error("TILLIT_DEBUG is on.", hint="Unset TILLIT_DEBUG in production.", id="tillit.E001"))
    if not settings.HTTPS:
        problems.append(Error("HTTPS is not required.", hint="Set TILLIT_HTTPS=1 (and TILLIT_BEHIND_PROXY=1 behind a "
                                                             "TLS-terminating proxy).", id="tillit.E002"))
    if set(settings.ALLOWED_HOSTS) <= {"127.0.0.1", "localhost"}:
        problems.append(Error("Only localhost may reach Tillit.", hint="Set TILLIT_ALLOWED_HOSTS to the public host "
                                                                       "name.", id="tillit.E003"))
    if settings.EMAIL_BACKEND.endswith(("console.EmailBackend", "filebased.EmailBackend")):
        problems.append(Warning("Mail is written to the console or to files, not sent.",
                                hint="Set TILLIT_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and "
                                     "TILLIT_SMTP_HOST.", id="tillit.W001"))
    if settings.SESSION_COOKIE_AGE > 24 * 3600:
        problems.append(Warning("Sessions outlive a day without use.", hint="Lower TILLIT_SESSION_IDLE_HOURS.",
                                id="tillit.W002"))
    return problems


@register(Tags.security, deploy=True, databases=["default"])
def demo_logins(app_configs, databases=None, **kwargs):
    """No login that opens anything may still take the demo's published password: the demo logins, every system
    owner and every login with a grant are tried (a password check each; members' logins are left out)."""
    if not databases:
        return []
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from tillit.core.models import Grant
    from tillit.registry.demo import DEMO_PASSWORD, demo_usernames

    candidates = get_user_model().objects.filter(is_active=True).filter(
        Q(username__in=demo_usernames()) | Q(is_superuser=True) | Q(is_staff=True)
        | Q(pk__in=Grant.objects.values("user_id")))
    open_ = sorted(u.username for u in candidates if u.has_usable_password() and u.check_password(DEMO_PASSWORD))
    if open_:
        return [Error(f"{len(open_)} login(s) still take the demo password: {', '.join(open_[:10])}.",
                      hint="Set their passwords (`tillit changepassword USER`) or deactivate them; a production "
                           "database should never hold the demo data.", id="tillit.E004")]
    return []
