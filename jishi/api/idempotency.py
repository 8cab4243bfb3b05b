"""``Idempotency-Key`` on creating POSTs: a retry with the same key and body gets the first answer back.

Middleware, because it must see the final response (status and bytes) of whatever endpoint ran. The key is
claimed in its own transaction before the endpoint runs, so two concurrent retries cannot both act; server
errors are not kept (the retry runs again). Keys are per user, up to 100 printable ASCII characters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from .errors import error_body
from .models import IdempotencyRecord
from .tokens import authenticate

HEADER = "HTTP_IDEMPOTENCY_KEY"
PREFIX = "/api/v1/"


def _json(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps(error_body(code, message), ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if not (1 <= len(key) <= 100 and key.isascii() and key.isprintable()):
            return _json(400, "invalid_idempotency_key", "Idempotency-Key 应为 1 到 100 个可打印 ASCII 字符。")
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        token = authenticate(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if token is None:
            return self.get_response(request)  # the API answers 401 itself
        try:
            body = request.body  # kept by Django, so the endpoint can still parse the form or the JSON
        except RequestDataTooBig:
            return _json(400, "too_large", "请求内容超过上限。")
        digest = hashlib.sha256(
            b"\n".join([request.path.encode(), request.META.get("QUERY_STRING", "").encode(), body])
        ).hexdigest()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=token.user, key=key, method="POST", path=request.path[:300], request_sha256=digest
                )
        except IntegrityError:
            found = IdempotencyRecord.objects.get(user=token.user, key=key)
            if found.request_sha256 != digest:
                return _json(422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求。")
            if found.status_code == 0:
                return _json(409, "in_progress", "同一 Idempotency-Key 的请求正在处理，请稍后重试。")
            replay = HttpResponse(bytes(found.body), status=found.status_code, content_type=found.content_type)
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming:
            record.delete()  # nothing happened that a retry must not repeat — or we cannot replay it
        else:
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "")
            record.body = response.content
            record.save(update_fields=["status_code", "content_type", "body"])
        return response


STATUS_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ErrorShapeMiddleware:
    """Answers Django or django-ninja produce before any endpoint runs (an unknown path, a method the path
    does not take) keep the API's one error shape instead of an HTML page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            shaped = _json(response.status_code, STATUS_CODES.get(response.status_code, "error"), "请求无法处理。")
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
