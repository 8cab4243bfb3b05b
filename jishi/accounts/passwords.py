"""Password policy and the password services (等保 身份鉴别: complexity, history, expiry).

The rules are Django password validators (settings.AUTH_PASSWORD_VALIDATORS), so every way a password
is set — `user_create`, `password_change`, `password_reset`, the bootstrap command — runs the same list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from jishi.audit.services import audit_record
from jishi.core.exceptions import ApplicationError, PermissionDenied

from .admin_permissions import can_manage_account
from .models import PasswordHistory, User
from .sessions import user_session_rekey, user_sessions_end

CLASSES = (
    ("大写字母", lambda c: c.isascii() and c.isupper()),
    ("小写字母", lambda c: c.isascii() and c.islower()),
    ("数字", lambda c: c.isascii() and c.isdigit()),
    ("符号", lambda c: not (c.isascii() and c.isalnum())),
)


class CharacterClassValidator:
    """At least `min_classes` of: upper-case letters, lower-case letters, digits, symbols (any other character)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        present = sum(1 for _, test in CLASSES if any(test(c) for c in password))
        if present < self.min_classes:
            raise ValidationError(
                f"密码须至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"密码须至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。"


class PasswordHistoryValidator:
    """A new password may not repeat the current one or any of the last `count` (compared against their hashes)."""

    def __init__(self, count: int = 5) -> None:
        self.count = count

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or self.count <= 0:
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.count]
        )
        if user.password:
            hashes.append(user.password)
        if any(check_password(password, h) for h in hashes):
            raise ValidationError(f"新密码不能与最近 {self.count} 次使用过的密码相同。", code="password_reused")

    def get_help_text(self) -> str:
        return f"新密码不能与最近 {self.count} 次使用过的密码相同。"


def _validated(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        codes = [error.code or "invalid" for error in exc.error_list]
        raise ApplicationError(" ".join(exc.messages), code="password_policy", extra={"rules": codes}) from None


def password_set(*, user: User, new_password: str, must_change: bool = False) -> None:
    """Set a password through the policy: validate, hash, keep in the history, restart the expiry clock.

    The one way a password is set (user creation, change, administrator's reset). Caller holds the
    transaction and writes the audit record.
    """
    _validated(new_password, user)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.password_must_change = must_change
    if user.pk is None:
        user.save()
    else:
        user.save(update_fields=["password", "password_changed_at", "password_must_change"])
    PasswordHistory.objects.create(user=user, password=user.password, created_at=user.password_changed_at)
    keep = max(getattr(settings, "PASSWORD_HISTORY", 5), 1)
    stale = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id").values_list("pk", flat=True)[keep:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


def password_expired(user: User, now: dt.datetime | None = None) -> bool:
    """Whether the user must change the password before doing anything else (expired, or set by an admin)."""
    if user.password_must_change:
        return True
    days = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0)
    if days <= 0:
        return False
    since = user.password_changed_at or user.date_joined
    return (now or timezone.now()) >= since + dt.timedelta(days=days)


def password_change(*, user: User, old_password: str, new_password: str, request: HttpRequest | None = None) -> None:
    """The user changes their own password; every other session of theirs ends, the current one is rotated."""
    if not user.check_password(old_password):
        with transaction.atomic():
            audit_record(
                event="password.change",
                outcome="failure",
                request=request,
                user=user,
                object_type="user",
                object_id=user.pk,
                detail={"reason": "wrong_old_password"},
            )
        raise ApplicationError("原密码不正确。", code="wrong_password")
    with transaction.atomic():
        password_set(user=user, new_password=new_password)
        keep = None
        if request is not None and hasattr(request, "session"):
            old_key = request.session.session_key
            update_session_auth_hash(request, user)  # keeps this session signed in, under a new key
            keep = request.session.session_key
            user_session_rekey(old_key=old_key, new_key=keep)
        ended = user_sessions_end(user=user, reason="password_change", keep_session_key=keep)
        audit_record(
            event="password.change",
            request=request,
            user=user,
            object_type="user",
            object_id=user.pk,
            detail={"sessions_ended": ended},
        )


def password_reset(*, actor: User, user: User, new_password: str) -> None:
    """A 系统管理员 of the user's unit (or a unit above) sets a new password; the user must change it at next login."""
    if actor.pk == user.pk:
        raise PermissionDenied("不能重置自己的密码，请使用“修改密码”。")
    # The same rule as disabling an account, so an account without roles yet is reached through its home unit.
    if not can_manage_account(actor, user):
        raise PermissionDenied("只有该用户所在机构或上级机构的系统管理员可以重置其密码。")
    with transaction.atomic():
        password_set(user=user, new_password=new_password, must_change=True)
        ended = user_sessions_end(user=user, reason="password_reset")
        audit_record(
            event="password.reset",
            user=actor,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.username, "sessions_ended": ended},
        )
