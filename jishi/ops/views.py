"""``/healthz`` for the intranet monitoring (Zabbix, Prometheus blackbox, a cron curl): no login, JSON,
200 when healthy and 503 otherwise, never cached. ``/bench/trivial``: the benchmarks' baseline view."""

from __future__ import annotations

import os

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from . import health


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health.run()
    response = JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def bench_views_enabled() -> bool:
    """``JISHI_BENCH_VIEWS=true`` is set only for the server that ``bench/http_load.py`` starts."""
    return os.environ.get("JISHI_BENCH_VIEWS", "").strip().lower() in ("1", "true", "yes", "on")


@require_safe
def bench_trivial(request: HttpRequest) -> HttpResponse:
    """The baseline of ``bench/http_load.py``: the whole middleware stack, no query, no template.

    The route always exists (the policy coverage test needs its name) but answers 404 unless enabled.
    """
    if not bench_views_enabled():
        raise Http404
    return HttpResponse(b"ok\n", content_type="text/plain; charset=utf-8")
