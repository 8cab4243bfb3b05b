"""Jishi settings — one env-driven module (healthchecks style).

Every variable is listed in `.env.example`. Development secrets are generated into `var/secrets/`
on first use; in production (JISHI_ENV=production) a missing secret is a startup error.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# An empty variable (as copied from .env.example) means the default, never the working directory.
VAR_DIR = Path(os.environ.get("JISHI_VAR_DIR") or BASE_DIR / "var")


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


JISHI_ENV = os.environ.get("JISHI_ENV", "development")
if JISHI_ENV not in ("development", "production", "test"):
    raise ImproperlyConfigured("JISHI_ENV must be development, production or test")


def secret(name: str, env: str, nbytes: int = 32) -> str:
    """A secret from the environment, or (outside production) one generated once into var/secrets."""
    value = os.environ.get(env)
    if value:
        return value
    if JISHI_ENV == "production":
        raise ImproperlyConfigured(f"{env} must be set in production")
    path = VAR_DIR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = secret("django-secret-key", "JISHI_SECRET_KEY", 50)
# AES-GCM key for personal data at rest (身份证号); urlsafe base64 of 32 random bytes.
FIELD_ENCRYPTION_KEY = secret("field-encryption-key", "JISHI_FIELD_KEY", 32)

DEBUG = envbool("JISHI_DEBUG", "false")
ALLOWED_HOSTS = [h for h in os.environ.get("JISHI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("JISHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "jishi.core",
    "jishi.accounts",
    "jishi.ledger",
    "jishi.procedures",
    "jishi.cadres",
    "jishi.selection",
    "jishi.supervision",
    "jishi.documents",
    "jishi.archives",
    "jishi.api",
    "jishi.ops",
    "jishi.audit",
    "ninja",
    # Authentication in 等保 mode (see docs/security-authentication.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",  # Content-Security-Policy (Hardening block below)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "jishi.core.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jishi.audit.middleware.AuditMiddleware",  # request ids; audit of sensitive access and refusals
    "jishi.core.middleware.OfficeLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jishi.accounts.middleware.SessionTimeoutMiddleware",
    "jishi.accounts.middleware.SecondFactorMiddleware",
    "jishi.api.idempotency.IdempotencyMiddleware",
    "jishi.api.idempotency.ErrorShapeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jishi.core.middleware.ApplicationErrorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: turns a lockout into the lockout page
]

ROOT_URLCONF = "jishi.urls"
WSGI_APPLICATION = "jishi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "jishi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jishi.supervision.context_nav.supervision_nav",
                "jishi.supervision.context_processors.unread_count",
            ],
        },
    },
]

# SQLite (embedded) by default; DATABASE_URL switches to PostgreSQL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("JISHI_SQLITE_PATH") or str(VAR_DIR / "jishi.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so ledger appends serialize instead of
                # failing with "database is locked" when two writers upgrade at once.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
TEST_DB_NAME = os.environ.get("JISHI_TEST_DB_NAME")
if TEST_DB_NAME:
    DATABASES["default"]["TEST"] = {"NAME": TEST_DB_NAME}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Authentication (等保 level-3 mode; docs/security-authentication.md) ---------------------------------
# On by default: ≥ 12-character passwords from 3 of 4 character classes, no reuse of the last 5, expiry,
# a mandatory TOTP second factor for every user holding a role. Off: Django's default password rules,
# no expiry, no mandatory second factor (lockout, throttling and session timeouts stay on).
DENGBAO_MODE = envbool("JISHI_DENGBAO_MODE", "true")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_MIN_LENGTH = 12 if DENGBAO_MODE else 8
PASSWORD_HISTORY = envint("JISHI_PASSWORD_HISTORY", "5") if DENGBAO_MODE else 0
PASSWORD_MAX_AGE_DAYS = envint("JISHI_PASSWORD_MAX_AGE_DAYS", "90") if DENGBAO_MODE else 0  # 0 = never
AUTH_PASSWORD_VALIDATORS: list[dict[str, object]] = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if DENGBAO_MODE:
    AUTH_PASSWORD_VALIDATORS += [
        {"NAME": "jishi.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
        {"NAME": "jishi.accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"count": PASSWORD_HISTORY}},
    ]
# Second factor (TOTP, django-otp): mandatory in 等保 mode for every user who holds a role.
# Empty (as copied from .env.example) means "as JISHI_DENGBAO_MODE".
OTP_REQUIRED = envbool("JISHI_OTP_REQUIRED", "") if os.environ.get("JISHI_OTP_REQUIRED") else DENGBAO_MODE
OTP_TOTP_ISSUER = os.environ.get("JISHI_OTP_ISSUER") or "纪实"
# Lockout (django-axes, database handler): N failures for one account lock it for M minutes; an address
# failing across many usernames is throttled the same way (jishi.accounts.lockout.JishiAxesHandler).
LOGIN_FAILURE_LIMIT = envint("JISHI_LOGIN_FAILURE_LIMIT", "5")
LOGIN_IP_FAILURE_LIMIT = envint("JISHI_LOGIN_IP_FAILURE_LIMIT", "20")
LOGIN_LOCKOUT_MINUTES = envint("JISHI_LOGIN_LOCKOUT_MINUTES", "30")
AXES_ENABLED = True
AXES_HANDLER = "jishi.accounts.lockout.JishiAxesHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock lasts M minutes, however often it is tried
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jishi.accounts.auth_views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "jishi.audit.services.client_ip"  # the same address the audit records
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the security audit (jishi.audit), not kept twice
AXES_ENABLE_ADMIN = False
# Sessions: idle and absolute limits (jishi.accounts.middleware.SessionTimeoutMiddleware), ended on browser close.
SESSION_IDLE_MINUTES = envint("JISHI_SESSION_IDLE_MINUTES", "15")
SESSION_MAX_HOURS = envint("JISHI_SESSION_MAX_HOURS", "10")
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # server-side: a session can be ended (UserSession)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "jishi" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at startup when it is missing
STATICFILES_DIRS = [BASE_DIR / "jishi" / "static"]
MEDIA_ROOT = Path(os.environ.get("JISHI_MEDIA_ROOT") or VAR_DIR / "materials")
# Material files: local filesystem (MEDIA_ROOT) or an S3-compatible object store via django-storages.
MATERIAL_STORAGE = os.environ.get("JISHI_MATERIAL_STORAGE", "filesystem")
if MATERIAL_STORAGE == "filesystem":
    _materials: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MATERIAL_STORAGE == "s3":
    _materials = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("JISHI_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("JISHI_S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("JISHI_S3_ACCESS_KEY", ""),
            "secret_key": os.environ.get("JISHI_S3_SECRET_KEY", ""),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
    if not _materials["OPTIONS"]["bucket_name"]:  # type: ignore[index]
        raise ImproperlyConfigured("JISHI_MATERIAL_STORAGE=s3 needs JISHI_S3_BUCKET")
else:
    raise ImproperlyConfigured("JISHI_MATERIAL_STORAGE must be filesystem or s3")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "materials": _materials,
}
MATERIAL_MAX_BYTES = envint("JISHI_MATERIAL_MAX_BYTES", str(20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = MATERIAL_MAX_BYTES + 1024 * 1024
# Generated documents: the CJK font to embed ("path" or "path#subfont-index"; empty = look for system fonts)
# and the unit's document-signing certificate (PKCS#12) used for PAdES signatures.
PDF_CJK_FONT = os.environ.get("JISHI_PDF_FONT", "")
# Inbox notifications are always kept; with an intranet mail relay they can also be mailed.
NOTIFY_BY_EMAIL = envbool("JISHI_NOTIFY_BY_EMAIL", "false")
EMAIL_HOST = os.environ.get("JISHI_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("JISHI_EMAIL_PORT", "25")
DEFAULT_FROM_EMAIL = os.environ.get("JISHI_EMAIL_FROM", "jishi@localhost")
EMAIL_TIMEOUT = 10
DOCUMENT_CERT_DIR = Path(os.environ.get("JISHI_DOCUMENT_CERT_DIR") or VAR_DIR / "certs")
DOCUMENT_CERT_PASSPHRASE = secret("document-cert-passphrase", "JISHI_DOCUMENT_CERT_PASSPHRASE", 32)
LRMX_MAX_BYTES = envint("JISHI_LRMX_MAX_BYTES", str(5 * 1024 * 1024))

# Archives (DA/T 22-2015): the 档号 format, the 门类 and 机构（问题） codes, per-item retention overrides
# ({"I13": "D30", …} as JSON) and the default 密级 of filed items.
ARCHIVE_CODE_FORMAT = os.environ.get(
    "JISHI_ARCHIVE_CODE_FORMAT", "{fonds}-{category}·{year}-{retention}-{org}-{number:04d}"
)
ARCHIVE_CATEGORY = os.environ.get("JISHI_ARCHIVE_CATEGORY", "WS")
ARCHIVE_ORG_CODE = os.environ.get("JISHI_ARCHIVE_ORG_CODE", "GB")
ARCHIVE_RETENTION = json.loads(os.environ.get("JISHI_ARCHIVE_RETENTION", "{}"))
ARCHIVE_SECRECY = os.environ.get("JISHI_ARCHIVE_SECRECY", "内部")
# Build the volumes as soon as the last step of a person or a batch is done (else only from 档案管理).
ARCHIVE_AUTO_BUILD = envbool("JISHI_ARCHIVE_AUTO_BUILD", "true")

# Ledger: a signed Merkle checkpoint every N events of a chain (0 = only on demand / schedule),
# and the scrypt cost (2**N) protecting personal signing keys under the signing PIN.
LEDGER_CHECKPOINT_EVERY = envint("JISHI_LEDGER_CHECKPOINT_EVERY", "100")
SIGNING_SCRYPT_N_LOG2 = envint("JISHI_SIGNING_SCRYPT_N_LOG2", "15")
SIGNING_MAX_PIN_FAILURES = 5

# Security audit records stay online this many days before `manage.py audit archive` may move them to a
# file (the law asks at least 184 days, i.e. six months; the system check jishi.audit.E001 refuses less).
JISHI_AUDIT_RETENTION_DAYS = envint("JISHI_AUDIT_RETENTION_DAYS", "365")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# ---- Hardening (issue #7 item 5; docs/security-hardening.md) ----------------------------------------------
# `manage.py check --deploy --fail-level WARNING` is clean with JISHI_ENV=production (tests/test_hardening.py).
_PRODUCTION = JISHI_ENV == "production"
# Cookies only over HTTPS: on by default in production (deploy/nginx/jishi.conf terminates TLS).
SESSION_COOKIE_SECURE = envbool("JISHI_SECURE_COOKIES", "true" if _PRODUCTION else "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Strict"
# htmx sends the token from the page (base.html hx-headers), forms from {% csrf_token %}: no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
# nginx sets X-Forwarded-Proto to its own $scheme (never the client's) and X-Real-IP (read by jishi.audit).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("JISHI_SSL_REDIRECT", "true" if _PRODUCTION else "false")
# Local monitoring probes gunicorn directly over HTTP: curl -fsS http://127.0.0.1:8000/healthz
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("JISHI_HSTS_SECONDS", str(365 * 24 * 3600) if _PRODUCTION else "0")
# Subdomains of the service's own name (*.jishi.zzb.intranet), not of the whole intranet domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("JISHI_HSTS_INCLUDE_SUBDOMAINS", "true" if _PRODUCTION else "false")
# The browsers' HSTS preload list is for public names: an intranet name cannot be submitted (security.W021).
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Permissions-Policy (jishi.core.headers): no page needs a camera, microphone, location, payment or USB.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=()"
)
# Content-Security-Policy (django-csp 4, middleware above): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Upload limits, set deliberately: one material file (MATERIAL_MAX_BYTES above) plus the form around it; the
# rest of a request body stays small. Uploads above 2.5 MB go to a temporary file, not memory.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440
FILE_UPLOAD_PERMISSIONS = 0o640
# A DOCX/XLSX/OFD is a ZIP: jishi.core.safe_zip refuses bombs, unsafe paths and links before it is accepted.
ZIP_MAX_ENTRIES = envint("JISHI_ZIP_MAX_ENTRIES", "10000")
ZIP_MAX_UNCOMPRESSED_BYTES = envint("JISHI_ZIP_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024))
ZIP_MAX_RATIO = envint("JISHI_ZIP_MAX_RATIO", "100")
# ---- end of Hardening ---------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Hardening: every handler masks 身份证号 (jishi.core.log_filters), in the message and the traceback.
    "filters": {"mask_id_numbers": {"()": "jishi.core.log_filters.MaskIdNumbers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_id_numbers"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("JISHI_LOG_LEVEL", "WARNING")},
    # Django's own handlers (DEFAULT_LOGGING: console when DEBUG, mail_admins, runserver's request lines) carry
    # no filter: route those loggers through the masked console instead.
    "loggers": {
        "django": {"handlers": [], "level": os.environ.get("JISHI_LOG_LEVEL", "WARNING"), "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
