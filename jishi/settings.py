"""Jishi settings — one env-driven module (healthchecks style).

Every variable is listed in `.env.example`. Development secrets are generated into `var/secrets/`
on first use; in production (JISHI_ENV=production) a missing secret is a startup error.
"""

from __future__ import annotations

import json
import os
import secrets
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jishi.core.middleware.OfficeLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jishi.api.idempotency.IdempotencyMiddleware",
    "jishi.api.idempotency.ErrorShapeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jishi.core.middleware.ApplicationErrorMiddleware",
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("JISHI_SESSION_SECONDS", str(8 * 3600))
SESSION_COOKIE_SECURE = envbool("JISHI_SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JISHI_LOG_LEVEL", "WARNING")},
}
