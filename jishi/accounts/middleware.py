"""Session limits and the second-factor gate (等保 mode).

SessionTimeoutMiddleware ends a session idle longer than SESSION_IDLE_MINUTES or older than
SESSION_MAX_HOURS (audited as `session.expired`). SecondFactorMiddleware lets a signed-in user who must
use TOTP reach only the login/OTP/logout pages until the session is verified, then only the
password-change page while the password is expired. Static files, /healthz, public notices and the
token-authenticated JSON API are never gated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from jishi.audit.services import audit_record

from .otp import otp_confirmed_device, otp_required
from .passwords import password_expired
from .sessions import LOGIN_AT, SEEN_AT, user_session_close, user_session_seen

# How often (seconds) the last-activity time is written; idle expiry is exact to this granularity.
TOUCH_EVERY = 30


def _open_prefixes() -> tuple[str, ...]:
    return (settings.STATIC_URL, "/healthz", "/public/", "/api/", "/i18n/", "/favicon.ico")


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            expired = self._check(request)
            if expired:
                return expired
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = time.time()
        login_at = float(session.get(LOGIN_AT) or now)
        seen_at = float(session.get(SEEN_AT) or now)
        reason = ""
        if now - login_at > settings.SESSION_MAX_HOURS * 3600:
            reason = "absolute"
        elif now - seen_at > settings.SESSION_IDLE_MINUTES * 60:
            reason = "idle"
        if reason:
            with transaction.atomic():
                audit_record(
                    event="session.expired",
                    request=request,
                    detail={"reason": reason, "idle_seconds": int(now - seen_at), "age_seconds": int(now - login_at)},
                )
                user_session_close(session_key=session.session_key, reason=f"expired_{reason}")
                request.jishi_logout_reason = f"expired_{reason}"  # type: ignore[attr-defined]
                logout(request)  # flushes: the server-side session row is deleted
            query = urlencode({"expired": reason, "next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(settings.LOGIN_URL)}?{query}")
        if LOGIN_AT not in session:
            session[LOGIN_AT] = now
        if now - seen_at >= TOUCH_EVERY or SEEN_AT not in session:
            session[SEEN_AT] = now
            user_session_seen(session_key=session.session_key)
        return None


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(_open_prefixes()):
            return self.get_response(request)
        gate = {reverse("login"), reverse("logout")}
        if request.path in gate:
            return self.get_response(request)
        otp_pages = {reverse("otp_setup"), reverse("otp_verify")}
        if not user.is_verified() and otp_required(user):
            if request.path in otp_pages:
                return self.get_response(request)
            target = "otp_verify" if otp_confirmed_device(user) is not None else "otp_setup"
            return self._redirect(request, target)
        if password_expired(user) and request.path not in otp_pages | {reverse("password_change")}:
            return self._redirect(request, "password_change")
        return self.get_response(request)

    @staticmethod
    def _redirect(request: HttpRequest, name: str) -> HttpResponse:
        url = reverse(name)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
