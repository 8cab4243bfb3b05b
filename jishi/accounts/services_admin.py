"""Account administration under 三权分立: disabling and enabling accounts, revoking roles, ending sessions.

系统管理员 creates, disables and enables accounts and resets passwords (units of his and below); 安全管理员
grants and revokes roles, unlocks accounts, resets TOTP devices and ends sessions; 安全审计员 changes
nothing. Every change writes a security audit record and, when it changes an account or a grant, a
ledger event on the fonds of the account's unit, in one transaction. A refusal writes a ``failure``
audit record before it is raised. ``actor=None`` (management commands, the tests' world) skips the
who-may checks but never the separation of duties.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction

from jishi.audit.models import Outcome
from jishi.audit.services import audit_record
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import ADMIN_ROLES, ROLE_LABELS, Role
from jishi.ledger.services import event_append

from . import admin_permissions as ap
from .models import OrgUnit, RoleAssignment, User, UserSession
from .sessions import user_session_close, user_sessions_end

SEPARATION = "separation_of_duties"


def _refuse(
    *,
    event: str,
    actor: User | None,
    message: str,
    target: User | None = None,
    detail: dict[str, Any] | None = None,
    code: str = "forbidden",
    denied: bool = True,
) -> NoReturn:
    """Record the refused attempt (outcome failure), then raise: 403 for who-may, 400 for a rule."""
    audit_record(
        event=event,
        outcome=Outcome.FAILURE,
        user=actor,
        object_type="user" if target is not None else "",
        object_id=target.pk if target is not None else "",
        detail={**(detail or {}), "refused": message},
    )
    if denied:
        raise PermissionDenied(message, code=code)
    raise ApplicationError(message, code=code)


def _fonds_of(user: User) -> str:
    unit = ap.user_home_unit(user)
    if unit is None:
        raise ApplicationError(f"账号 {user.username} 不属于任何单位，无法记入台账。", code="no_unit")
    return unit.code


# Checks used by jishi.accounts.services (user_create, role_grant) ------------------------------------


def user_create_check(*, actor: User | None, org_unit: OrgUnit, username: str) -> None:
    if actor is not None and not ap.can_create_user_in(actor, org_unit):
        _refuse(
            event="user.create",
            actor=actor,
            message="只有本单位或上级单位的系统管理员可以创建账号。",
            detail={"username": username, "org_unit": org_unit.code},
        )


def role_grant_check(*, actor: User | None, user: User, org_unit: OrgUnit, role: Role) -> None:
    """Who may grant (安全管理员 of the unit or above; never an admin role to himself), and 三权分立:
    no two of the three admin roles in one person, no admin role together with a selection-work role."""
    role = Role(role)
    detail = {"username": user.username, "role": role.value, "org_unit": org_unit.code}
    if actor is not None:
        if not ap.can_grant_in(actor, org_unit):
            _refuse(
                event="role.grant",
                actor=actor,
                target=user,
                detail=detail,
                message="只有本单位或上级单位的安全管理员可以授予角色。",
            )
        if actor.pk == user.pk and role in ADMIN_ROLES:
            _refuse(event="role.grant", actor=actor, target=user, detail=detail, message="不能为本人授予管理员角色。")
    held = {Role(r) for r in RoleAssignment.objects.filter(user=user).values_list("role", flat=True)}
    if role in ADMIN_ROLES:
        other_admin = sorted(ROLE_LABELS[r] for r in (held & ADMIN_ROLES) - {role})
        if other_admin:
            _refuse(
                event="role.grant",
                actor=actor,
                target=user,
                detail=detail,
                code=SEPARATION,
                denied=False,
                message=(
                    f"三权分立：{user.get_full_name()} 已是{'、'.join(other_admin)}，"
                    f"不能再担任{ROLE_LABELS[role]}。系统管理员、安全管理员、安全审计员须由不同人员担任。"
                ),
            )
        work = sorted(ROLE_LABELS[r] for r in held - ADMIN_ROLES)
        if work:
            _refuse(
                event="role.grant",
                actor=actor,
                target=user,
                detail=detail,
                code=SEPARATION,
                denied=False,
                message=(
                    f"三权分立：{user.get_full_name()} 担任{'、'.join(work)}（干部选拔任用业务角色），"
                    f"不能兼任{ROLE_LABELS[role]}。"
                ),
            )
    else:
        admin = sorted(ROLE_LABELS[r] for r in held & ADMIN_ROLES)
        if admin:
            _refuse(
                event="role.grant",
                actor=actor,
                target=user,
                detail=detail,
                code=SEPARATION,
                denied=False,
                message=(
                    f"三权分立：{user.get_full_name()} 是{'、'.join(admin)}，"
                    f"不能兼任{ROLE_LABELS[role]}等干部选拔任用业务角色。"
                ),
            )


def _admin_require(*, actor: User, target: User, event: str, allowed: bool, who: str) -> None:
    if actor.pk == target.pk:
        _refuse(event=event, actor=actor, target=target, message="不能对本人账号执行此操作。")
    if not allowed:
        _refuse(event=event, actor=actor, target=target, message=f"只有该账号所在单位或上级单位的{who}。")


def account_admin_require(*, actor: User | None, target: User, event: str) -> None:
    """A 系统管理员's act on an account (disable, enable, password reset): refuse and record otherwise."""
    if actor is not None:
        allowed = ap.can_manage_account(actor, target)
        _admin_require(actor=actor, target=target, event=event, allowed=allowed, who="系统管理员可以管理账号")


def security_admin_require(*, actor: User | None, target: User, event: str) -> None:
    """A 安全管理员's act on an account (unlock, TOTP reset, ending sessions): refuse and record otherwise."""
    if actor is not None:
        allowed = ap.can_secure_account(actor, target)
        _admin_require(actor=actor, target=target, event=event, allowed=allowed, who="安全管理员可以执行此操作")


# Services --------------------------------------------------------------------------------------------


def user_disable(*, actor: User | None, user: User, reason: str) -> User:
    """停用账号: the account can no longer sign in, and every session it holds ends now."""
    account_admin_require(actor=actor, target=user, event="user.disable")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写停用原因。", code="required")
    if not user.is_active:
        raise ApplicationError(f"账号 {user.username} 已是停用状态。", code="already_disabled")
    fonds = _fonds_of(user)
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = user_sessions_end(user=user, reason="disabled")
        event_append(
            fonds=fonds,
            actor=actor,
            action="user.disable",
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username, "reason": reason},
        )
        audit_record(
            event="user.disable",
            user=actor,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.username, "reason": reason, "sessions_ended": ended},
        )
    return user


def user_enable(*, actor: User | None, user: User) -> User:
    """启用账号 (again)."""
    account_admin_require(actor=actor, target=user, event="user.enable")
    if user.is_active:
        raise ApplicationError(f"账号 {user.username} 已是启用状态。", code="already_enabled")
    fonds = _fonds_of(user)
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        event_append(
            fonds=fonds,
            actor=actor,
            action="user.enable",
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username},
        )
        audit_record(
            event="user.enable", user=actor, object_type="user", object_id=user.pk, detail={"username": user.username}
        )
    return user


def role_revoke(*, actor: User | None, assignment: RoleAssignment) -> None:
    """撤销角色: by a 安全管理员 of the unit or above, never on himself."""
    user, unit = assignment.user, assignment.org_unit
    detail = {"username": user.username, "role": assignment.role, "org_unit": unit.code}
    if actor is not None:
        if not ap.can_grant_in(actor, unit):
            _refuse(
                event="role.revoke",
                actor=actor,
                target=user,
                detail=detail,
                message="只有本单位或上级单位的安全管理员可以撤销角色。",
            )
        if actor.pk == user.pk:
            _refuse(event="role.revoke", actor=actor, target=user, detail=detail, message="不能撤销本人的角色。")
    with transaction.atomic():
        deleted, _ = RoleAssignment.objects.filter(pk=assignment.pk).delete()
        if not deleted:
            raise ApplicationError("该角色授权已不存在（可能已被撤销）。", code="gone")
        event_append(
            fonds=unit.code,
            actor=actor,
            action="role.revoke",
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username, "role": assignment.role},
        )
        audit_record(event="role.revoke", user=actor, object_type="user", object_id=user.pk, detail=detail)


def session_end(*, actor: User | None, session: UserSession) -> None:
    """结束一个会话 (安全管理员): its server-side session is deleted, so the browser is signed out."""
    target = session.user
    security_admin_require(actor=actor, target=target, event="session.terminate")
    if session.ended_at is not None:
        raise ApplicationError("该会话已结束。", code="gone")
    with transaction.atomic():
        import_module(settings.SESSION_ENGINE).SessionStore(session.session_key).delete()
        user_session_close(session_key=session.session_key, reason="admin")
        audit_record(
            event="session.terminate",
            user=actor,
            object_type="user",
            object_id=target.pk,
            detail={"username": target.username, "session": session.pk, "count": 1, "by_admin": True},
        )


def user_sessions_end_by_admin(*, actor: User | None, user: User) -> int:
    """结束某人全部会话 (安全管理员)."""
    security_admin_require(actor=actor, target=user, event="session.terminate")
    with transaction.atomic():
        ended = user_sessions_end(user=user, reason="admin")
        audit_record(
            event="session.terminate",
            user=actor,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.username, "count": ended, "by_admin": True},
        )
    return ended
