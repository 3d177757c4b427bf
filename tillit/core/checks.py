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
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        problems.append(Warning("Mail is written to the console, not sent.",
                                hint="Set TILLIT_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and "
                                     "TILLIT_SMTP_HOST.", id="tillit.W001"))
    if settings.SESSION_COOKIE_AGE > 24 * 3600:
        problems.append(Warning("Sessions outlive a day without use.", hint="Lower TILLIT_SESSION_IDLE_HOURS.",
                                id="tillit.W002"))
    return problems
