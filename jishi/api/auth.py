"""Bearer-token authentication with scopes: read for GET, write for changes, sign for PIN-signed acts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from jishi.accounts.models import User
from jishi.core.exceptions import PermissionDenied

from .models import ApiToken
from .tokens import authenticate

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TokenAuth(HttpBearer):
    """``Authorization: Bearer jsk_…``; the request then acts as the token's user, like a logged-in click."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate(token)
        if found is None:
            return None
        needed = "read" if request.method in SAFE_METHODS else "write"
        if needed not in found.scopes:
            raise PermissionDenied(f"该令牌没有“{needed}”权限范围。", code="scope")
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found


def require_sign_scope(request: Any) -> None:
    """Acts signed with the signing PIN also need the token's ``sign`` scope."""
    token: ApiToken | None = getattr(request, "api_token", None)
    if token is None or "sign" not in token.scopes:
        raise PermissionDenied("该令牌没有“sign”权限范围，不能办理需签名口令的事项。", code="scope")


def actor(request: HttpRequest) -> User:
    """The authenticated user of an API request (TokenAuth has run: never anonymous here)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("未认证。", code="unauthenticated")
    return user
