"""Hardening: `manage.py check --deploy --fail-level WARNING` is clean with production settings (and fails when a
protection is turned off), every page carries the Content-Security-Policy and the other security headers, HTTP
is redirected to HTTPS behind nginx, and no template holds inline script, inline style or an event handler."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "jishi" / "templates"
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# Variables the test sets itself or that would point the subprocess at the suite's database.
_DROP = ("DATABASE_URL", "JISHI_SQLITE_PATH", "JISHI_MEDIA_ROOT", "JISHI_TEST_DB_NAME", "JISHI_DEBUG")


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROP and not k.startswith(("JISHI_SECURE", "JISHI_HSTS", "JISHI_SSL"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "jishi.settings",
        "JISHI_ENV": "production",
        "JISHI_VAR_DIR": str(tmp_path),
        "JISHI_SECRET_KEY": secrets.token_urlsafe(50),
        "JISHI_FIELD_KEY": secrets.token_urlsafe(32),
        "JISHI_DOCUMENT_CERT_PASSPHRASE": secrets.token_urlsafe(32),
        "JISHI_ALLOWED_HOSTS": "jishi.zzb.intranet,127.0.0.1,localhost",
        "JISHI_CSRF_TRUSTED_ORIGINS": "https://jishi.zzb.intranet",
        **extra,
    }


def _check_deploy(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_with_the_production_defaults(tmp_path: Path):
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("JISHI_SECURE_COOKIES", "false", "security.W012"),  # session cookie over plain HTTP
        ("JISHI_HSTS_SECONDS", "0", "security.W004"),
        ("JISHI_SSL_REDIRECT", "false", "security.W008"),
        ("JISHI_DEBUG", "true", "security.W018"),
    ],
)
def test_check_deploy_fails_when_a_protection_is_turned_off(tmp_path: Path, variable: str, value: str, warning: str):
    result = _check_deploy(tmp_path, **{variable: value})
    assert result.returncode == 1
    assert warning in result.stderr


def test_every_page_carries_the_content_security_policy_and_the_security_headers(db, client: Client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy == CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    # An error page and a JSON answer too, not only rendered templates.
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and "Content-Security-Policy" in missing and "Permissions-Policy" in missing
    api = client.get("/api/v1/batches")
    assert api.status_code == 401 and "Content-Security-Policy" in api


def test_the_api_docs_page_renders_under_the_policy_from_our_own_static_files(db, client: Client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    body = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body and "/static/ninja/swagger-ui.css" in body
    assert "cdn" not in body.lower()
    _assert_no_inline_code("api/v1/docs", body)


def test_behind_nginx_http_is_redirected_to_https_and_https_answers_carry_hsts(db, client: Client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Local monitoring probes gunicorn over HTTP: /healthz is not redirected.
    assert client.get("/healthz").status_code in (200, 503)


def test_the_csrf_token_reaches_htmx_from_the_page_so_the_cookie_can_be_httponly(settings):
    assert settings.CSRF_COOKIE_HTTPONLY and settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_SAMESITE == "Strict" and settings.SESSION_COOKIE_SAMESITE == "Lax"
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in base
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>""" in base
    assert ".htmx-request .htmx-indicator" in (ROOT / "jishi" / "static" / "css" / "jishi.css").read_text(
        encoding="utf-8"
    )
    scripts = [p for p in (ROOT / "jishi" / "static" / "js").rglob("*.js") if "cookie" in p.read_text(encoding="utf-8")]
    assert scripts == []


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
HANDLER = re.compile(r"""\son[a-z]+\s*=""", re.IGNORECASE)


def _assert_no_inline_code(name: str, text: str) -> None:
    for attributes in SCRIPT.findall(text):
        assert "src=" in attributes or 'type="application/json"' in attributes, f"{name}: inline <script{attributes}>"
    assert not re.search(r"<style\b", text, re.IGNORECASE), f"{name}: inline <style>"
    for tag in TAG.findall(text):
        assert not re.search(r"""\sstyle\s*=""", tag, re.IGNORECASE), f"{name}: style attribute in {tag[:120]}"
        assert not HANDLER.search(tag), f"{name}: event handler in {tag[:120]}"


def test_no_template_holds_inline_script_inline_style_or_an_event_handler():
    templates = sorted((ROOT / "jishi").rglob("*.html"))
    assert len(templates) > 40
    for path in templates:
        _assert_no_inline_code(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<button onclick="go()">x</button>',
        '<div style="color:red">x</div>',
        "<style>p{}</style>",
    ],
)
def test_the_template_scan_finds_each_kind_of_inline_code(snippet: str):
    with pytest.raises(AssertionError):
        _assert_no_inline_code("sample.html", snippet)
