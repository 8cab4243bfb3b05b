"""Token services: create (secret shown once), revoke, authenticate. Each change is a ledger event."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from jishi.accounts.keys import home_fonds
from jishi.accounts.models import User
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.ledger.services import event_append

from .models import ApiToken, Scope

PREFIX = "jsk"
MAX_DAYS = 365


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_create(*, actor: User, name: str, scopes: list[str], days: int) -> tuple[ApiToken, str]:
    """A new token for the actor itself; returns the row and the full secret (never stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise ApplicationError("请填写令牌用途（100 字以内）。", code="invalid_name", extra={"field": "name"})
    allowed = {s.value for s in Scope}
    if not scopes or any(s not in allowed for s in scopes):
        raise ApplicationError("权限范围只能是 read、write、sign。", code="invalid_scopes", extra={"field": "scopes"})
    if not 1 <= days <= MAX_DAYS:
        raise ApplicationError(f"有效期应为 1 到 {MAX_DAYS} 天。", code="invalid_days", extra={"field": "days"})
    prefix = secrets.token_hex(4)
    secret = f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            name=name,
            prefix=prefix,
            secret_hash=_digest(secret),
            scopes=sorted(set(scopes)),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        event_append(
            fonds=home_fonds(actor),
            actor=actor,
            action="api_token.create",
            subject_type="user",
            subject_id=actor.pk,
            payload={"prefix": prefix, "name": name, "scopes": token.scopes, "expires": token.expires_at.isoformat()},
        )
    return token, secret


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk:
        raise PermissionDenied("只能吊销自己的令牌。")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise ApplicationError("该令牌已吊销。", code="revoked")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        event_append(
            fonds=home_fonds(actor),
            actor=actor,
            action="api_token.revoke",
            subject_type="user",
            subject_id=actor.pk,
            payload={"prefix": token.prefix},
        )
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The live token for ``secret`` (not revoked, not expired, user active), or None."""
    parts = secret.split("_", 2)  # the random part may itself contain "_"
    if len(parts) != 3 or parts[0] != PREFIX or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # throttled: not one write per request
    return token
