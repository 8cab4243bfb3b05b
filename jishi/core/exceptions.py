"""The one domain exception. Messages are Chinese sentences a clerk understands."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "您没有权限执行此操作。", **kwargs: Any):
        kwargs.setdefault("code", "forbidden")
        super().__init__(message, **kwargs)
