"""The sessions a user holds (登录会话): written at login, ended on logout, password change or disabling.

Django keeps the session itself (django_session, the database backend); `UserSession` is our index of
them by user, so all of one user's sessions can be listed and ended (等保 身份鉴别 / 剩余信息保护: an
ended session's server-side row is deleted, not merely forgotten by the browser).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from jishi.audit.services import audit_record, client_ip

from .models import User, UserSession

# Session keys holding when the session signed in and when it was last active (Unix seconds).
LOGIN_AT = "jishi_login_at"
SEEN_AT = "jishi_seen_at"


def _session_store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def user_session_start(*, user: User, request: HttpRequest) -> UserSession | None:
    """Record the session a login just created (after Django rotated the key)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    if session.session_key is None:
        session.save()
    now = timezone.now()
    session[LOGIN_AT] = session[SEEN_AT] = now.timestamp()
    return UserSession.objects.create(
        user=user,
        session_key=session.session_key or "",
        created_at=now,
        last_seen_at=now,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )


def user_session_close(*, session_key: str | None, reason: str) -> int:
    """Mark one session's row ended (the caller deletes or flushes the Django session itself)."""
    if not session_key:
        return 0
    return UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason[:30]
    )


def user_session_rekey(*, old_key: str | None, new_key: str | None) -> None:
    """Follow a session whose key was rotated (cycle_key) without signing out."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key, ended_at__isnull=True).update(session_key=new_key)


def user_session_seen(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(last_seen_at=timezone.now())


def user_sessions_active(*, user: User) -> list[UserSession]:
    return list(UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-created_at"))


def user_sessions_end(*, user: User, reason: str, keep_session_key: str | None = None) -> int:
    """End every open session of `user` (except `keep_session_key`); returns how many were ended.

    Deletes the server-side session rows, so the browsers holding them are signed out at their next
    request. Called on password change (keeping the caller's own, rotated session), password reset,
    when a user is disabled, and by an administrator. Writes one `session.terminate` audit record when
    anything was ended; call it inside the transaction of the change that causes it.
    """
    with transaction.atomic():
        rows = list(
            UserSession.objects.select_for_update()
            .filter(user=user, ended_at__isnull=True)
            .exclude(session_key=keep_session_key or "")
        )
        for row in rows:
            _session_store(row.session_key).delete()
        ended = UserSession.objects.filter(pk__in=[r.pk for r in rows]).update(
            ended_at=timezone.now(), end_reason=reason[:30]
        )
        if ended:
            detail: dict[str, Any] = {"reason": reason, "count": ended}
            audit_record(event="session.terminate", user=user, object_type="user", object_id=user.pk, detail=detail)
    return ended
