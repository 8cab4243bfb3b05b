"""CSRF on every state change: a POST without the token, from a logged-in browser session, to any URL of the
application is refused (403) or not accepted at all (405) — never carried out, never redirected — and changes
nothing (no ledger event, no security-audit record, no row anywhere). No view is csrf_exempt except the JSON
API, which authenticates only by bearer token, so a session cookie alone opens nothing there either."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from jishi.audit.models import AuditRecord
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection.models import Batch

ROOT = Path(__file__).resolve().parent.parent
API_PREFIX = "api/v1/"
# csrf_exempt views, each with its reason. Only the JSON API: django-ninja exempts its views and authenticates
# every operation by bearer token (jishi.api.auth.TokenAuth) — never by the session cookie (asserted below).
CSRF_EXEMPT_ALLOWED = {API_PREFIX: "JSON API: Authorization: Bearer token only, no session authentication"}
CONVERTERS = {"int": "{int}", "str": "x", "slug": "x", "uuid": str(uuid.uuid4()), "path": "x/y"}


def _route(pattern: Any) -> str:
    route = getattr(pattern, "_route", None)
    if route is not None:
        return str(route)
    # A regular expression (django-ninja includes its routers under "^"): anchors dropped.
    return str(getattr(pattern, "_regex", "")).removeprefix("^").removesuffix("$").removesuffix("\\Z")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + _route(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + _route(p.pattern), p


def _concrete(route: str, pk: int) -> str | None:
    """A path for the route with its parameters filled in (a real batch id for every integer), or None for
    a regular-expression route that cannot be filled mechanically."""
    if re.search(r"[()\[\]*+?\\^$]", route):
        return None
    filled = re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: CONVERTERS.get(m.group(1) or "str", "x").replace("{int}", str(pk)), route
    )
    return "/" + filled


def _all_rows() -> dict[str, int]:
    """Row counts of every table but the security audit (a refused request is itself audited: access.denied)."""
    return {
        m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.managed and m is not AuditRecord
    }


def _audit_successes() -> int:
    return AuditRecord.objects.exclude(outcome="failure").count()


def _urls(pk: int) -> list[tuple[str, URLPattern]]:
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        path = _concrete(route, pk)
        if path is None:
            continue
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.func is pattern.callback:
            found.append((path, pattern))
    return found


def test_the_walk_covers_the_application(world: World, batch: Batch):
    paths = [path for path, _ in _urls(batch.pk)]
    assert len(paths) > 60
    for expected in ("/login/", "/cadres/lrmx/confirm/", f"/batches/{batch.pk}/", "/api/v1/batches"):
        assert any(p == expected or p.rstrip("/") == expected.rstrip("/") for p in paths), expected


def test_a_post_without_the_csrf_token_changes_nothing_anywhere(world: World, batch: Batch):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)  # section head: may change the most
    before = (_all_rows(), Event.objects.count(), _audit_successes())
    accepted = []
    for path, _ in _urls(batch.pk):
        if path.startswith("/" + API_PREFIX):
            continue
        response = client.post(path, {"reason": "测试", "title": "测试", "pin": "739146", "confirm": "1"})
        # A 403 from the view itself (a permission page) would hide a missing CSRF check: it must be Django's.
        if not (response.status_code == 405 or (response.status_code == 403 and b"CSRF" in response.content)):
            accepted.append((path, response.status_code))
    assert accepted == []
    assert (_all_rows(), Event.objects.count(), _audit_successes()) == before
    # The refusals themselves may be audited (access.denied …), as failures only: _audit_successes is unchanged.


def test_the_api_never_authenticates_by_the_session_cookie(world: World, batch: Batch):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    before = (_all_rows(), Event.objects.count(), _audit_successes())
    for path, _ in _urls(batch.pk):
        if not path.startswith("/" + API_PREFIX):
            continue
        response = client.post(path, {}, content_type="application/json")
        assert not 200 <= response.status_code < 400, (path, response.status_code)
    # A read through the session cookie alone is refused too (401: no bearer token).
    assert client.get("/api/v1/batches").status_code == 401
    assert (_all_rows(), Event.objects.count(), _audit_successes()) == before


def test_only_the_api_is_csrf_exempt():
    exempt = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if getattr(pattern.callback, "csrf_exempt", False) and not route.startswith(tuple(CSRF_EXEMPT_ALLOWED)):
            exempt.append(route)
    assert exempt == []
    sources = [p for p in (ROOT / "jishi").rglob("*.py") if "csrf_exempt" in p.read_text(encoding="utf-8")]
    assert sources == []


@pytest.mark.parametrize("needle", ["SessionAuth", "django_auth", "APIKeyCookie", "session"])
def test_the_api_authentication_module_knows_no_session(needle: str):
    text = (ROOT / "jishi" / "api" / "auth.py").read_text(encoding="utf-8")
    assert needle not in text
