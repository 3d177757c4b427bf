"""One settings module, driven by environment variables (see docs/operations.md)."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("TILLIT_VAR_DIR", BASE_DIR.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from the environment, else one generated once into var/ (never committed)."""
    key = os.environ.get("TILLIT_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("TILLIT_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("TILLIT_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TILLIT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "tillit.core.apps.TillitAdminConfig",  # the Django admin, off unless TILLIT_ADMIN_SITE=1
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "treebeard",
    "tillit.core",
    "tillit.registry",
    "tillit.cases",
    "tillit.messaging",
    "tillit.documents",
    "tillit.dues",
    "tillit.reps",
    "tillit.portal",
    "tillit.workspace",
    "django_tasks",
    "django_tasks_db",
    "tillit.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tillit.core.middleware.InputGuardMiddleware",
    "tillit.core.memo.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tillit.core.middleware.IdleSessionMiddleware",
    "tillit.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tillit.urls"
WSGI_APPLICATION = "tillit.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tillit.workspace.context.navigation",
            ],
        },
    },
]


DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tillit.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL with synchronous=FULL: an acknowledged commit survives a crash or power loss.
    # IMMEDIATE transactions take the write lock up front, so concurrent writers wait
    # (busy_timeout) instead of failing half-way with "database is locked".
    # Connections are kept (per server thread): closing the last one checkpoints the WAL, which cost
    # 3 ms of every request when each request opened its own.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TILLIT_TEST_DB_NAME", "test_tillit")}
    # Short queries: JIT compiling costs more (tens of ms) than it ever saves on pages like ours.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tillit.core.backends.KeptUserBackend",  # the model backend, with a session's user kept for a minute
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AXES_FAILURE_LIMIT = int(os.environ.get("TILLIT_LOGIN_FAILURE_LIMIT", "5"))
# Failed logins from one client (any usernames) in 15 minutes before it is held back for the rest of them.
TILLIT_LOGIN_CLIENT_LIMIT = int(os.environ.get("TILLIT_LOGIN_CLIENT_LIMIT", "30"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tillit.core.views.locked_out"  # says whom to ask (the unit's support contact)
AXES_VERBOSE = False
# Lockout is per username: per IP address would lock out a whole office behind one NAT address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The case list's covering index (INCLUDE columns) is for PostgreSQL; SQLite keeps the key columns, as meant.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

# The shared cache: the user's grants and scope for a minute, and sessions in front of the database.
# Files in var/cache by default (shared by every process on the machine); TILLIT_CACHE_URL=redis://…
# when several machines serve.
TILLIT_CACHE_URL = os.environ.get("TILLIT_CACHE_URL", "")
if TILLIT_CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TILLIT_CACHE_URL,
                          "KEY_PREFIX": "tillit"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache"), "OPTIONS": {"MAX_ENTRIES": 20_000}}}
# Rendered fragments that are a pure function of their cache key (the top bar's menu per language and set of
# rights): per process, never shared, nothing to invalidate.
CACHES["fragments"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tillit-fragments",
                       "OPTIONS": {"MAX_ENTRIES": 2_000}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session ends after a working day without use (the expiry moves forward as the user works).
SESSION_COOKIE_AGE = int(float(os.environ.get("TILLIT_SESSION_IDLE_HOURS", "9")) * 3600)
# However busy, a session ends this long after its login: the next request asks for the login again.
TILLIT_SESSION_MAX_HOURS = float(os.environ.get("TILLIT_SESSION_MAX_HOURS", "12"))
# Which logins must show a second factor where the organisation has set no rule for the role (the page
# /access/logins/): "grants" (every login with a grant: staff, reps, local administrators, payroll offices),
# "all" (members and citizens too), "none", or role codes separated by commas ("self_service" for members).
TILLIT_SECOND_FACTOR_ROLES = os.environ.get("TILLIT_SECOND_FACTOR_ROLES", "grants")
OTP_TOTP_ISSUER = os.environ.get("TILLIT_TOTP_ISSUER", "Tillit")  # the name authenticator apps show
# The Django admin's own login form is a second door; it is off unless turned on, and then asks for the same
# second factor through Tillit's login.
TILLIT_ADMIN_SITE = os.environ.get("TILLIT_ADMIN_SITE", "") == "1"
# Single sign-on (OpenID Connect), see docs/operations.md: TILLIT_OIDC_PROVIDERS names the providers
# ("entra,bankid"), each configured by TILLIT_OIDC_<NAME>_<SETTING>.
def _sign_on(names: str) -> dict:
    providers = {}
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        def get(setting, default="", name=name):
            return os.environ.get(f"TILLIT_OIDC_{name.upper()}_{setting}", default)
        key_file = get("PRIVATE_KEY_FILE")
        providers[name] = {
            "label": get("LABEL", name), "issuer": get("ISSUER"), "client_id": get("CLIENT_ID"),
            "client_secret": get("CLIENT_SECRET"), "private_key": Path(key_file).read_text() if key_file else "",
            "purpose": get("PURPOSE", "staff"), "unknown": get("UNKNOWN", "refuse"),
            "national_id_claim": get("NATIONAL_ID_CLAIM", "pid"), "scope": get("SCOPE", "openid profile email"),
            "acr_values": get("ACR_VALUES"), "strong_acr": tuple(v for v in get("STRONG_ACR").split(",") if v)}
    return providers


TILLIT_SIGN_ON = _sign_on(os.environ.get("TILLIT_OIDC_PROVIDERS", ""))
# Personal API tokens: valid this many days unless their maker chooses otherwise, never longer than the most.
TILLIT_TOKEN_DAYS = int(os.environ.get("TILLIT_TOKEN_DAYS", "90"))
TILLIT_TOKEN_MAX_DAYS = int(os.environ.get("TILLIT_TOKEN_MAX_DAYS", "365"))
# Whom users ask about their login where no org unit up their tree names a support contact.
TILLIT_SUPPORT_CONTACT = os.environ.get("TILLIT_SUPPORT_CONTACT", "")

# Production behind HTTPS (see docs/operations.md): TILLIT_HTTPS=1 turns on the redirect, HSTS and
# secure cookies; TILLIT_BEHIND_PROXY=1 trusts X-Forwarded-Proto from the TLS-terminating proxy.
HTTPS = os.environ.get("TILLIT_HTTPS", "") == "1"
# A production configuration: `tillit demo` refuses to load its data (and published password) into it.
TILLIT_PRODUCTION = HTTPS or os.environ.get("TILLIT_PRODUCTION", "") == "1"
SESSION_COOKIE_SECURE = HTTPS or os.environ.get("TILLIT_SECURE_COOKIES", "") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("TILLIT_HSTS_SECONDS", str(365 * 24 * 3600))) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and os.environ.get("TILLIT_HSTS_SUBDOMAINS", "1") == "1"
SECURE_HSTS_PRELOAD = HTTPS and os.environ.get("TILLIT_HSTS_PRELOAD", "1") == "1"
# The reverse proxy `tillit serve` trusts (its address, or several separated by spaces): its X-Forwarded-For
# names the client (for the access log and the per-client limits) and its X-Forwarded-Proto the scheme.
# TILLIT_BEHIND_PROXY=1 alone trusts a proxy on the same machine.
TILLIT_TRUSTED_PROXY = os.environ.get("TILLIT_TRUSTED_PROXY", "") or (
    "127.0.0.1" if os.environ.get("TILLIT_BEHIND_PROXY", "") == "1" else "")
if TILLIT_TRUSTED_PROXY:  # `tillit serve` drops the header from anyone else, so it can be trusted here
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["tillit.formats"]  # English dates as read here: day first, 24-hour clock
TIME_ZONE = os.environ.get("TILLIT_TIME_ZONE", "Europe/Oslo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("TILLIT_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders; the folder must exist
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("TILLIT_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Documents: a local folder (TILLIT_MEDIA_ROOT) by default; TILLIT_STORAGE=s3 for S3-compatible storage.
if os.environ.get("TILLIT_STORAGE", "local") == "s3":
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ.get("TILLIT_S3_BUCKET", ""),
        "endpoint_url": os.environ.get("TILLIT_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("TILLIT_S3_REGION") or None,
        "access_key": os.environ.get("TILLIT_S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("TILLIT_S3_SECRET_ACCESS_KEY") or None,
        "location": os.environ.get("TILLIT_S3_PREFIX", ""),
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": True,
    }}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(MEDIA_ROOT), "file_permissions_mode": 0o640}}
STORAGES = {"default": _default_storage,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
TILLIT_DOCUMENT_MAX_BYTES = int(os.environ.get("TILLIT_DOCUMENT_MAX_BYTES", str(500 * 1024 * 1024)))
TILLIT_DOCUMENT_TYPES = [t for t in os.environ.get("TILLIT_DOCUMENT_TYPES", ",".join([
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff",
    "text/plain", "text/markdown", "text/csv", "message/rfc822", "application/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/vnd.ms-outlook",
])).split(",") if t]
TILLIT_SHARE_LINK_DAYS = int(os.environ.get("TILLIT_SHARE_LINK_DAYS", "14"))  # default expiry of external links
TILLIT_SHARE_LINK_MAX_DAYS = int(os.environ.get("TILLIT_SHARE_LINK_MAX_DAYS", "365"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
TILLIT_IMPORT_MAX_BYTES = int(os.environ.get("TILLIT_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
# An export of more people than this is made in the background (a job with progress and a download).
TILLIT_EXPORT_INLINE_ROWS = int(os.environ.get("TILLIT_EXPORT_INLINE_ROWS", "5000"))

# Until SMTP is configured, mail is written to files in var/mail (one per sending), not to the console: the demo's
# reminders would flood it.
EMAIL_BACKEND = os.environ.get("TILLIT_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("TILLIT_MAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("TILLIT_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TILLIT_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("TILLIT_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TILLIT_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("TILLIT_SMTP_STARTTLS", "") == "1"
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("TILLIT_MAIL_FROM", "tillit@localhost")
TILLIT_MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
TILLIT_MAIL_MAX_ATTEMPTS = int(os.environ.get("TILLIT_MAIL_MAX_ATTEMPTS", "5"))
# Case documents sent with a message to the person: at most this much together (most mail servers take 20-25 MB).
TILLIT_MAIL_ATTACHMENTS_MAX_BYTES = int(os.environ.get("TILLIT_MAIL_ATTACHMENTS_MAX_BYTES", str(15_000_000)))
# The reps' portal: the fields a rep's member export may hold, and how many members make a workplace that
# should have a rep (the coverage view).
TILLIT_REP_EXPORT_FIELDS = os.environ.get(
    "TILLIT_REP_EXPORT_FIELDS", "name,member_number,workplace,position,email,phone,status").split(",")
TILLIT_REP_MINIMUM_MEMBERS = int(os.environ.get("TILLIT_REP_MINIMUM_MEMBERS", "5"))
# The case type (by name) of the regional office's reminder that a rep's term ends; the intake type if unset.
TILLIT_TERM_REMINDER_CASE_TYPE = os.environ.get("TILLIT_TERM_REMINDER_CASE_TYPE", "")
TILLIT_INBOUND_MAX_BYTES = int(os.environ.get("TILLIT_INBOUND_MAX_BYTES", str(30 * 1024 * 1024)))
TILLIT_IMAP_HOST = os.environ.get("TILLIT_IMAP_HOST", "")
TILLIT_IMAP_PORT = int(os.environ.get("TILLIT_IMAP_PORT", "0"))
TILLIT_IMAP_USER = os.environ.get("TILLIT_IMAP_USER", "")
TILLIT_IMAP_PASSWORD = os.environ.get("TILLIT_IMAP_PASSWORD", "")
TILLIT_IMAP_SSL = os.environ.get("TILLIT_IMAP_SSL", "1") == "1"
TILLIT_IMAP_MAILBOX = os.environ.get("TILLIT_IMAP_MAILBOX", "INBOX")
# Where people reach Tillit from outside, for links in emails sent by background tasks (requests use their own).
TILLIT_PUBLIC_URL = os.environ.get("TILLIT_PUBLIC_URL", "http://127.0.0.1:8000")
# Passkeys are bound to the site's host name (WebAuthn's relying party id) and the public address's origin.
# TILLIT_WEBAUTHN_RP_ID names a parent domain instead (passkeys then work on its other hosts too).
TILLIT_WEBAUTHN_RP_ID = os.environ.get("TILLIT_WEBAUTHN_RP_ID", "")
TILLIT_SMS_BACKEND = os.environ.get("TILLIT_SMS_BACKEND", "tillit.messaging.sms.ConsoleBackend")
# Whether a message to a selection shows with its text on each recipient's person page (else subject only).
TILLIT_MAILING_TEXT_ON_PERSON_PAGE = os.environ.get("TILLIT_MAILING_TEXT_ON_PERSON_PAGE", "1") == "1"
# The fields a rep's correction changes only after member service approves it (the others apply at once).
TILLIT_REP_APPROVAL_FIELDS = [f for f in os.environ.get(
    "TILLIT_REP_APPROVAL_FIELDS", "workplace,percentage,ends_on").split(",") if f]

# Background work: the database queue by default (`tillit worker`); TILLIT_TASK_BACKEND=rq puts it on
# Redis (TILLIT_REDIS_URL) for workers on other machines.
TILLIT_TASK_BACKEND = os.environ.get("TILLIT_TASK_BACKEND", "database")
# "default": mail, notifications, imports, rounds; "documents": reading the text of files from outside, which
# `tillit worker` runs beside the default queue so that mail never waits behind a file.
TASK_QUEUES = ["default", "documents"]
# Reading a file's text: a child process with these limits (a file over one is marked failed).
TILLIT_EXTRACT_SECONDS = float(os.environ.get("TILLIT_EXTRACT_SECONDS", "60"))
TILLIT_EXTRACT_CPU_SECONDS = int(os.environ.get("TILLIT_EXTRACT_CPU_SECONDS", "30"))
TILLIT_EXTRACT_MEMORY_MB = int(os.environ.get("TILLIT_EXTRACT_MEMORY_MB", "512"))
# Any task of the database queue is stopped (and marked failed) after this long; the largest imports and dues
# runs at a million members take well under it.
TILLIT_TASK_SECONDS = float(os.environ.get("TILLIT_TASK_SECONDS", str(4 * 3600)))
TILLIT_REDIS_URL = os.environ.get("TILLIT_REDIS_URL", "redis://127.0.0.1:6379/0")
if TILLIT_TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    RQ_QUEUES = {name: {"URL": TILLIT_REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in TASK_QUEUES}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
# A task whose worker has not been heard from for this long is run again (at most this many times).
TILLIT_TASK_LEASE_SECONDS = float(os.environ.get("TILLIT_TASK_LEASE_SECONDS", "60"))
TILLIT_TASK_MAX_ATTEMPTS = int(os.environ.get("TILLIT_TASK_MAX_ATTEMPTS", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("TILLIT_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
