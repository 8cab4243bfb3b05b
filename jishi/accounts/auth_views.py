"""Sign-in pages: login, TOTP enrolment and verification, password change, and the lockout page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from jishi.core.exceptions import ApplicationError
from jishi.core.types import AuthedHttpRequest

from . import otp
from .passwords import password_change, password_expired


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return settings.LOGIN_REDIRECT_URL


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired", "")
        return context


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the same page whether or not the account exists."""
    context = {"minutes": settings.LOGIN_LOCKOUT_MINUTES, "limit": settings.LOGIN_FAILURE_LIMIT}
    return render(request, "accounts/lockout.html", context, status=429)


@login_required
def otp_setup(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if otp.otp_confirmed_device(user) is not None:
        return redirect(reverse("otp_verify") + "?" + urlencode({"next": _next(request)}))
    device = otp.otp_enrol_start(user=user)
    error = None
    if request.method == "POST":
        try:
            otp.otp_enrol_confirm(user=user, token=request.POST.get("token", ""), request=request)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, "动态口令已绑定。今后登录时须输入手机上显示的动态口令。")
            return redirect(_next(request))
    context = {
        "qr_svg": otp.otp_qr_svg(device),
        "secret": otp.otp_secret_base32(device),
        "error": error,
        "next": _next(request),
    }
    return render(request, "accounts/otp_setup.html", context, status=400 if error else 200)


@login_required
def otp_verify(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if otp.otp_confirmed_device(user) is None:
        return redirect("otp_setup")
    error = None
    if request.method == "POST":
        try:
            otp.otp_verify(user=user, token=request.POST.get("token", ""), request=request)
        except ApplicationError as exc:
            error = exc
        else:
            return redirect(_next(request))
    return render(
        request, "accounts/otp_verify.html", {"error": error, "next": _next(request)}, status=400 if error else 200
    )


@login_required
def password_change_view(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    error = None
    if request.method == "POST":
        post = request.POST
        try:
            if post.get("new_password", "") != post.get("new_password2", ""):
                raise ApplicationError("两次输入的新密码不一致。", code="password_mismatch")
            password_change(
                user=user,
                old_password=post.get("old_password", ""),
                new_password=post.get("new_password", ""),
                request=request,
            )
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, "密码已修改。您在其他地方的登录已全部退出。")
            return redirect(_next(request))
    context = {
        "error": error,
        "expired": password_expired(user),
        "must_change": user.password_must_change,
        "max_age_days": getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0),
        "min_length": getattr(settings, "PASSWORD_MIN_LENGTH", 8),
        "history": getattr(settings, "PASSWORD_HISTORY", 0),
        "dengbao": getattr(settings, "DENGBAO_MODE", False),
        "next": _next(request),
    }
    return render(request, "accounts/password_change.html", context, status=400 if error else 200)
