"""Request ids, and the audit of sensitive access and of refused requests (等保 安全审计; ASVS 16.3.2).

Every request gets ``request.request_id`` (uuid4), echoed as the ``X-Request-ID`` response header and
written into every audit record of the request. After the response is made, exactly one record is
written when nothing else recorded the request (a login, a role grant … write their own):

- a response to a sensitive URL (jishi.audit.catalogue): ``sensitive.view`` / ``sensitive.export``,
  outcome ``failure`` when the status is 400 or above;
- any other response with status 401 or 403: ``access.denied``, outcome ``failure``.

A write failure propagates (the request fails with 500): the audit cannot be bypassed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .catalogue import DENIED, sensitive_for
from .models import Outcome
from .services import audit_record, current_request

DENIED_STATUSES = frozenset({401, 403})


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if not getattr(request, "audit_recorded", False):
                self._record(request, response)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def _record(self, request: HttpRequest, response: HttpResponse) -> None:
        status = response.status_code
        match = getattr(request, "resolver_match", None)
        entry = sensitive_for(match.url_name, match.route or "", request.method or "GET") if match is not None else None
        detail: dict[str, Any] = {"status": status}
        if entry is not None:
            kwargs = match.kwargs if match is not None else {}
            if "fmt" in kwargs:
                detail["format"] = str(kwargs["fmt"])[:10]
            if match is not None and match.url_name:
                detail["view"] = match.url_name
            audit_record(
                event=entry.event,
                outcome=Outcome.SUCCESS if status < 400 else Outcome.FAILURE,
                request=request,
                object_type=entry.object_type,
                object_id=kwargs.get(entry.kwarg, "") if entry.kwarg else "",
                detail=detail,
            )
        elif status in DENIED_STATUSES:
            if match is not None and match.url_name:
                detail["view"] = match.url_name
            audit_record(event=DENIED, outcome=Outcome.FAILURE, request=request, detail=detail)
