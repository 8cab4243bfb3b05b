"""Account administration (系统管理员's work). Each change is a ledger event of the unit's fonds."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from jishi.audit.services import audit_record
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import Role
from jishi.ledger.hashing import ALGORITHMS
from jishi.ledger.models import Chain
from jishi.ledger.services import chain_create, event_append

from . import keys
from .models import OrgUnit, RoleAssignment, User
from .passwords import password_set
from .services_admin import role_grant_check, user_create_check


def org_unit_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    short_name: str = "",
    parent: OrgUnit | None = None,
    hash_algorithm: str = "sha256",
) -> OrgUnit:
    """Create an org unit and its fonds' hash chain (SHA-256, or SM3 — fixed in the genesis event)."""
    code = code.strip()
    if not code or not name.strip():
        raise ApplicationError("全宗号和名称都必须填写。", code="required")
    if hash_algorithm not in ALGORITHMS:
        raise ApplicationError("摘要算法只能是 sha256 或 sm3。", code="invalid_algorithm")
    if Chain.objects.filter(fonds=code).exists():
        raise ApplicationError(f"全宗号 {code} 已被使用。", code="duplicate")
    try:
        with transaction.atomic():
            unit = OrgUnit.objects.create(code=code, name=name.strip(), short_name=short_name.strip(), parent=parent)
            chain_create(fonds=code, algorithm=hash_algorithm)
            event_append(
                fonds=code,
                actor=actor,
                action="org_unit.create",
                subject_type="orgunit",
                subject_id=unit.pk,
                payload={"code": code, "name": unit.name, "parent": parent.code if parent else None},
            )
    except IntegrityError:
        raise ApplicationError(f"全宗号 {code} 已被使用。", code="duplicate") from None
    return unit


def user_create(
    *, actor: User | None, org_unit: OrgUnit, username: str, full_name: str, title: str, password: str
) -> User:
    user_create_check(actor=actor, org_unit=org_unit, username=username)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=None, full_name=full_name, title=title)
            password_set(user=user, new_password=password)  # the password policy and history (等保 mode)
            event_append(
                fonds=org_unit.code,
                actor=actor,
                action="user.create",
                subject_type="user",
                subject_id=user.pk,
                payload={"username": username, "full_name": full_name, "title": title},
            )
            audit_record(
                event="user.create",
                user=actor,
                object_type="user",
                object_id=user.pk,
                detail={"username": username, "org_unit": org_unit.code},
            )
    except IntegrityError:
        raise ApplicationError(f"用户名 {username} 已存在。", code="duplicate") from None
    return user


def role_grant(*, actor: User | None, user: User, org_unit: OrgUnit, role: Role) -> RoleAssignment:
    role_grant_check(actor=actor, user=user, org_unit=org_unit, role=role)  # 三权分立; audits a refusal
    with transaction.atomic():
        first_in_unit = not RoleAssignment.objects.filter(user=user, org_unit=org_unit).exists()
        assignment, created = RoleAssignment.objects.get_or_create(user=user, org_unit=org_unit, role=role.value)
        if created and first_in_unit:
            keys.signing_key_publish(user=user, fonds=org_unit.code)
        if created:
            event_append(
                fonds=org_unit.code,
                actor=actor,
                action="role.grant",
                subject_type="user",
                subject_id=user.pk,
                payload={"username": user.username, "role": role.value},
            )
            audit_record(
                event="role.grant",
                user=actor,
                object_type="user",
                object_id=user.pk,
                detail={"username": user.username, "role": role.value, "org_unit": org_unit.code},
            )
    return assignment
