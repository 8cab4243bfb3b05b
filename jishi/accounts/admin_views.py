"""账号管理 (系统管理员), 角色与安全管理 and 会话管理 (安全管理员) — thin views over the services.

A refusal of a whole page is a 403 (recorded by the audit middleware); a refused or invalid change
re-renders the page with the message and the values typed (never a password), status 400 or 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import ROLE_LABELS, Role
from jishi.core.types import AuthedHttpRequest

from . import admin_permissions as ap
from . import services, services_admin
from .lockout import account_locked, account_unlock
from .models import OrgUnit, RoleAssignment, User, UserSession
from .otp import otp_device_reset
from .passwords import password_reset

SYSADMIN_ONLY = "只有系统管理员可以管理账号。"
SECADMIN_ONLY = "只有安全管理员可以管理角色、解除锁定和管理会话。"


def _units(request: AuthedHttpRequest, role: Role, message: str) -> list[OrgUnit]:
    units = ap.admin_units(request.user, role)
    if not units:
        raise PermissionDenied(message)
    return units


def _target(units: list[OrgUnit], pk: int) -> User:
    found = next((u for u in ap.users_of_units(units) if u.pk == pk), None)
    if found is None:
        raise Http404
    return found


def _locked(user: User) -> bool:
    return account_locked(user.get_username())


def _status(exc: ApplicationError) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 400


# 账号管理 (系统管理员) ----------------------------------------------------------------------------------


def _render_users(
    request: AuthedHttpRequest,
    units: list[OrgUnit],
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    row: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    users = ap.users_of_units(units)
    roles: dict[int, list[RoleAssignment]] = {}
    for ra in RoleAssignment.objects.filter(user__in=users).select_related("org_unit").order_by("org_unit__code"):
        roles.setdefault(ra.user_id, []).append(ra)
    rows = [{"user": u, "roles": roles.get(u.pk, []), "locked": _locked(u)} for u in users]
    context = {
        "rows": rows,
        "units": units,
        "error": error,
        "form": form or {},
        "row": row or {},
    }
    return render(request, "accounts/admin_users.html", context, status=status)


@login_required
def user_admin(request: AuthedHttpRequest) -> HttpResponse:
    units = _units(request, Role.SYSADMIN, SYSADMIN_ONLY)
    if request.method != "POST":
        return _render_users(request, units)
    post = request.POST
    form = {k: post.get(k, "").strip() for k in ("org_unit", "username", "full_name", "title")}
    try:
        unit = next((u for u in units if u.code == form["org_unit"]), None)
        if unit is None:
            raise ApplicationError("请选择本单位或下级单位。", code="required")
        if not form["username"] or not form["full_name"]:
            raise ApplicationError("用户名和姓名都必须填写。", code="required")
        password = post.get("password", "")
        if password != post.get("password2", ""):
            raise ApplicationError("两次输入的口令不一致。", code="password_mismatch")
        user = services.user_create(  # validates the password against the policy
            actor=request.user,
            org_unit=unit,
            username=form["username"],
            full_name=form["full_name"],
            title=form["title"],
            password=password,
        )
    except ApplicationError as exc:
        return _render_users(request, units, error=exc.message, form=form, status=_status(exc))
    messages.success(request, f"已创建账号 {user.username}。请由安全管理员授予角色。")
    return redirect("user_admin")


@login_required
@require_POST
def user_admin_disable(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SYSADMIN, SYSADMIN_ONLY)
    target = _target(units, pk)
    reason = request.POST.get("reason", "")
    try:
        services_admin.user_disable(actor=request.user, user=target, reason=reason)
    except ApplicationError as exc:
        row = {"pk": target.pk, "reason": reason}
        return _render_users(request, units, error=exc.message, row=row, status=_status(exc))
    messages.success(request, f"已停用账号 {target.username}，其全部会话已结束。")
    return redirect("user_admin")


@login_required
@require_POST
def user_admin_enable(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SYSADMIN, SYSADMIN_ONLY)
    target = _target(units, pk)
    try:
        services_admin.user_enable(actor=request.user, user=target)
    except ApplicationError as exc:
        return _render_users(request, units, error=exc.message, status=_status(exc))
    messages.success(request, f"已启用账号 {target.username}。")
    return redirect("user_admin")


@login_required
@require_POST
def user_admin_password(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SYSADMIN, SYSADMIN_ONLY)
    target = _target(units, pk)
    password = request.POST.get("new_password", "")
    try:
        services_admin.account_admin_require(actor=request.user, target=target, event="password.reset")
        if password != request.POST.get("new_password2", ""):
            raise ApplicationError("两次输入的口令不一致。", code="password_mismatch")
        password_reset(actor=request.user, user=target, new_password=password)  # validates against the policy
    except ApplicationError as exc:
        return _render_users(request, units, error=exc.message, row={"pk": target.pk}, status=_status(exc))
    messages.success(request, f"已重置 {target.username} 的口令；该用户下次登录时须修改口令。")
    return redirect("user_admin")


# 角色与安全管理 (安全管理员) ---------------------------------------------------------------------------


def _render_roles(
    request: AuthedHttpRequest,
    units: list[OrgUnit],
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    users = ap.users_of_units(units)
    assignments = (
        RoleAssignment.objects.filter(user__in=users, org_unit__in=units)
        .select_related("org_unit")
        .order_by("org_unit__code", "role")
    )
    by_user: dict[int, list[RoleAssignment]] = {}
    for ra in assignments:
        by_user.setdefault(ra.user_id, []).append(ra)
    rows = [{"user": u, "roles": by_user.get(u.pk, []), "locked": _locked(u)} for u in users]
    context = {
        "rows": rows,
        "units": units,
        "users": users,
        "roles": [(r.value, ROLE_LABELS[r]) for r in Role],
        "error": error,
        "form": form or {},
    }
    return render(request, "accounts/admin_roles.html", context, status=status)


@login_required
def role_admin(request: AuthedHttpRequest) -> HttpResponse:
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    if request.method != "POST":
        return _render_roles(request, units)
    form = {k: request.POST.get(k, "").strip() for k in ("user", "org_unit", "role")}
    try:
        unit = next((u for u in units if u.code == form["org_unit"]), None)
        target = next((u for u in ap.users_of_units(units) if str(u.pk) == form["user"]), None)
        if unit is None or target is None or form["role"] not in {r.value for r in Role}:
            raise ApplicationError("请选择用户、单位和角色。", code="required")
        services.role_grant(actor=request.user, user=target, org_unit=unit, role=Role(form["role"]))
    except ApplicationError as exc:
        return _render_roles(request, units, error=exc.message, form=form, status=_status(exc))
    messages.success(
        request, f"已授予 {target.username} {unit.short_name or unit.name}的{ROLE_LABELS[Role(form['role'])]}角色。"
    )
    return redirect("role_admin")


@login_required
@require_POST
def role_admin_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    assignment = RoleAssignment.objects.select_related("user", "org_unit").filter(pk=pk, org_unit__in=units).first()
    if assignment is None:
        raise Http404
    try:
        services_admin.role_revoke(actor=request.user, assignment=assignment)
    except ApplicationError as exc:
        return _render_roles(request, units, error=exc.message, status=_status(exc))
    messages.success(request, f"已撤销 {assignment.user.username} 的{assignment.get_role_display()}角色。")
    return redirect("role_admin")


def _security_act(request: AuthedHttpRequest, pk: int, event: str, act: Any, done: str) -> HttpResponse:
    """One 安全管理员 act on an account (unlock, TOTP reset): checked, recorded, and reported on the roles page."""
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    target = _target(units, pk)
    try:
        services_admin.security_admin_require(actor=request.user, target=target, event=event)
        act(actor=request.user, user=target)
    except ApplicationError as exc:
        return _render_roles(request, units, error=exc.message, status=_status(exc))
    messages.success(request, done.format(username=target.username))
    return redirect("role_admin")


@login_required
@require_POST
def role_admin_unlock(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _security_act(request, pk, "account.unlock", account_unlock, "已解除 {username} 的登录锁定。")


@login_required
@require_POST
def role_admin_otp_reset(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    done = "已重置 {username} 的动态口令设备；其下次登录时须重新绑定。"
    return _security_act(request, pk, "otp.reset", otp_device_reset, done)


# 会话管理 (安全管理员) -------------------------------------------------------------------------------


def _render_sessions(
    request: AuthedHttpRequest, units: list[OrgUnit], *, error: str = "", status: int = 200
) -> HttpResponse:
    users = ap.users_of_units(units)
    sessions = (
        UserSession.objects.filter(user__in=users, ended_at__isnull=True)
        .select_related("user")
        .order_by("user__username", "-created_at")
    )
    context = {"sessions": sessions, "error": error}
    return render(request, "accounts/admin_sessions.html", context, status=status)


@login_required
def session_admin(request: AuthedHttpRequest) -> HttpResponse:
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    return _render_sessions(request, units)


@login_required
@require_POST
def session_admin_end(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    session = UserSession.objects.select_related("user").filter(pk=pk, user__in=ap.users_of_units(units)).first()
    if session is None:
        raise Http404
    try:
        services_admin.session_end(actor=request.user, session=session)
    except ApplicationError as exc:
        return _render_sessions(request, units, error=exc.message, status=_status(exc))
    messages.success(request, f"已结束 {session.user.username} 的一个会话。")
    return redirect("session_admin")


@login_required
@require_POST
def session_admin_end_all(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    units = _units(request, Role.SECADMIN, SECADMIN_ONLY)
    target = _target(units, pk)
    try:
        ended = services_admin.user_sessions_end_by_admin(actor=request.user, user=target)
    except ApplicationError as exc:
        return _render_sessions(request, units, error=exc.message, status=_status(exc))
    messages.success(request, f"已结束 {target.username} 的全部会话（{ended} 个）。")
    return redirect("session_admin")
