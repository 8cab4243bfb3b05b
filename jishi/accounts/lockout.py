"""Login lockout and throttling (django-axes 8, database handler) and the 安全管理员's unlock.

Axes compares one failure count with one limit, and with AXES_LOCKOUT_PARAMETERS = ["username",
"ip_address"] that count is the larger of "failures for this username" and "failures from this address".
We want two limits — 5 for an account (from anywhere), 20 for an address (across usernames) — so the
handler reports the account's count, raised to the account limit once the address has passed its own.
The lock lasts AXES_COOLOFF_TIME after the last counted failure; failures during a lock are not counted
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so a lock is exactly that long.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from jishi.audit.services import audit_record
from jishi.core.exceptions import PermissionDenied
from jishi.core.roles import Role

from .models import User
from .otp import administers


def _recent(request: HttpRequest | None) -> Any:
    attempts = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME is not None:
        at = getattr(request, "axes_attempt_time", None) or timezone.now()
        attempts = attempts.filter(attempt_time__gte=at - settings.AXES_COOLOFF_TIME)
    return attempts


def _failures(attempts: Any) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class JishiAxesHandler(AxesDatabaseHandler):
    """Per-account lockout (LOGIN_FAILURE_LIMIT) and per-address throttling (LOGIN_IP_FAILURE_LIMIT)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        recent = _recent(request)
        username = get_client_username(request, credentials)
        account = _failures(recent.filter(username=username)) if username else 0
        ip = getattr(request, "axes_ip_address", None)
        if ip and _failures(recent.filter(ip_address=ip)) >= settings.LOGIN_IP_FAILURE_LIMIT:
            return max(account, settings.LOGIN_FAILURE_LIMIT)
        return account

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """A successful login clears the account's failures, never the address's failures for other accounts."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return int(count)


def account_locked(username: str) -> bool:
    """Whether the account is locked now (for the administrators' pages)."""
    return _failures(_recent(None).filter(username=username)) >= settings.LOGIN_FAILURE_LIMIT


def account_unlock(*, actor: User, user: User) -> int:
    """A 安全管理员 of the user's unit (or above) lifts the user's lock; returns the cleared attempt rows."""
    if not administers(actor, user, Role.SECADMIN):
        raise PermissionDenied("只有该用户所在机构或上级机构的安全管理员可以解除账户锁定。")
    with transaction.atomic():
        count, _ = AccessAttempt.objects.filter(username=user.get_username()).delete()
        audit_record(
            event="account.unlock",
            user=actor,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.get_username(), "attempts_cleared": count},
        )
    return int(count)
