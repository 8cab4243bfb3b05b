"""Schemas shared by every router: the error shape and the responses every operation documents."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorDetail(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class ErrorOut(Schema):
    error: ErrorDetail


# Every operation lists these, so a client (and schemathesis) knows each refusal's shape.
ERRORS: dict[int, type[Schema]] = {status: ErrorOut for status in (400, 401, 403, 404, 409, 422)}


class Message(Schema):
    message: str
