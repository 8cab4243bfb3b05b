"""One error shape for every client error: ``{"error": {"code", "message", "extra"}}`` with a 4xx status."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from jishi.core.exceptions import ApplicationError, PermissionDenied

log = logging.getLogger(__name__)

# Refusals because the record moved on meanwhile (a retry or a second clerk): 409, not 400.
CONFLICT_CODES = frozenset(
    {"stale", "already_confirmed", "already_transferred", "decided", "archived", "exists", "in_progress", "released"}
)


def error_body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "extra": extra or {}}}


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, code: str, message: str, extra: Any = None) -> HttpResponse:
        return api.create_response(request, error_body(code, message, extra), status=status)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, exc.code, exc.message, exc.extra)

    @api.exception_handler(ApplicationError)
    def refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        if isinstance(exc, PermissionDenied):
            return forbidden(request, exc)
        return respond(request, 409 if exc.code in CONFLICT_CODES else 400, exc.code, exc.message, exc.extra)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", "没有找到该对象。")

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, "unauthenticated", "缺少有效的接口令牌（Authorization: Bearer jsk_…）。")

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors
        ]
        return respond(request, 422, "validation", "请求内容不符合接口要求。", {"problems": problems})

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return respond(request, exc.status_code, "http_error", str(exc))

    @api.exception_handler(Exception)
    def crashed(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", "服务器内部错误，已记录。")
