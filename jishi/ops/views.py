"""``/healthz`` for the intranet monitoring (Zabbix, Prometheus blackbox, a cron curl): no login, JSON,
200 when healthy and 503 otherwise, never cached."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from . import health


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health.run()
    response = JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
