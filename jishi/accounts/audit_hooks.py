"""Security audit of authentication, hooked on Django's and axes' authentication signals.

Signals are not how Jishi does domain logic (services are); they are used here *only for audit and
security bookkeeping*, because sign-in, sign-out and lockout happen inside Django and django-axes
(LoginView, authenticate(), logout(), Client.force_login) where no service of ours is on the path. The
UserSession row written at login is the same kind of bookkeeping: every way a session is created must
leave a row, or the session could not be listed and ended later.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from jishi.audit.services import audit_record

from .sessions import user_session_close, user_session_start


@receiver(user_logged_in, dispatch_uid="jishi_audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    audit_record(event="login", request=request, user=user)
    user_session_start(user=user, request=request)


@receiver(user_login_failed, dispatch_uid="jishi_audit_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django has already replaced the password with asterisks; we keep only the username typed.
    username = str(credentials.get("username") or "")[:150]
    detail = {"reason": "locked"} if getattr(request, "axes_locked_out", False) else {}
    audit_record(event="login", outcome="failure", request=request, username=username, detail=detail)


@receiver(user_locked_out, dispatch_uid="jishi_audit_lockout")
def _locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    # axes also sends this for each attempt refused during a lock; record only the moment the lock starts.
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return
    audit_record(
        event="login.lockout",
        outcome="failure",
        request=request,
        username=str(username or "")[:150],
        detail={"failures": getattr(request, "axes_failures_since_start", None)},
    )


@receiver(user_logged_out, dispatch_uid="jishi_audit_logout")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    if getattr(request, "jishi_logout_reason", ""):
        return  # a session ended by the timeout middleware: audited there as session.expired
    session = getattr(request, "session", None)
    user_session_close(session_key=session.session_key if session is not None else None, reason="logout")
    audit_record(event="logout", request=request, user=user)
