"""Calling the JSON API in tests as a named user with a real token (created through the token service)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from jishi.api.tokens import token_create


class ApiClient:
    """``api.get("/batches")`` → (status, parsed JSON); every call carries the user's bearer token."""

    def __init__(self, user: Any, scopes: tuple[str, ...] = ("read", "write", "sign")) -> None:
        self.user = user
        _, self.secret = token_create(actor=user, name="测试", scopes=list(scopes), days=30)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.secret}")

    def _answer(self, response: Any) -> tuple[int, Any]:
        kind = response.get("Content-Type", "")
        return response.status_code, json.loads(response.content) if "json" in kind else response

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        return self._answer(self.client.get(f"/api/v1{path}", params))

    def post(self, path: str, body: Any = None, *, key: str | None = None, **extra: Any) -> tuple[int, Any]:
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        if "files" in extra:  # multipart: form fields plus files
            data = {**(body or {}), **extra.pop("files")}
            return self._answer(self.client.post(f"/api/v1{path}", data, **headers, **extra))
        return self._answer(
            self.client.post(
                f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", **headers, **extra
            )
        )

    def put(self, path: str, body: Any) -> tuple[int, Any]:
        return self._answer(self.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json"))

    def patch(self, path: str, body: Any) -> tuple[int, Any]:
        return self._answer(self.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json"))

    def delete(self, path: str) -> tuple[int, Any]:
        return self._answer(self.client.delete(f"/api/v1{path}"))
