"""Who administers whom (三权分立): the predicates of account, role and audit administration.

系统管理员 (SYSADMIN) manages the accounts of his unit and the units below; 安全管理员 (SECADMIN) grants
and revokes roles, unlocks accounts, resets TOTP devices and ends sessions there; 安全审计员 (AUDITOR)
reads the security audit of his unit and the units below. None of the three sees selection records
(jishi.accounts.permissions.WORK_ROLES excludes them), and nobody holds two of them (role_grant refuses).

A user belongs to the units he holds roles in and to the unit he was created in (the fonds of his
``user.create`` ledger event), so a new account without roles is still administered by its unit.
"""

from __future__ import annotations

from jishi.core.roles import ADMIN_ROLES, Role
from jishi.ledger.models import Event

from .models import OrgUnit, RoleAssignment, User


def _active(user: User | None) -> bool:
    return user is not None and bool(user.is_authenticated) and bool(user.is_active)


def admin_units(user: User | None, role: Role) -> list[OrgUnit]:
    """Units where `user` holds `role`, and every unit below them (sorted by code)."""
    if user is None or not _active(user):
        return []
    units: dict[int, OrgUnit] = {}
    for ra in RoleAssignment.objects.filter(user=user, role=role.value).select_related("org_unit"):
        for unit in ra.org_unit.descendants_and_self():
            units[unit.pk] = unit
    return sorted(units.values(), key=lambda u: u.code)


def user_units(user: User) -> list[OrgUnit]:
    """The units a user belongs to: where he holds roles, and where his account was created."""
    ids = set(RoleAssignment.objects.filter(user=user).values_list("org_unit", flat=True))
    created_in = Event.objects.filter(action="user.create", subject_type="user", subject_id=str(user.pk)).values_list(
        "chain__fonds", flat=True
    )
    return list(OrgUnit.objects.filter(pk__in=ids) | OrgUnit.objects.filter(code__in=list(created_in)))


def user_home_unit(user: User) -> OrgUnit | None:
    """The unit whose fonds records changes to the account: where it was created, else its first role's unit."""
    fonds = (
        Event.objects.filter(action="user.create", subject_type="user", subject_id=str(user.pk))
        .values_list("chain__fonds", flat=True)
        .first()
    )
    if fonds:
        found = OrgUnit.objects.filter(code=fonds).first()
        if found is not None:
            return found
    ra = RoleAssignment.objects.filter(user=user).select_related("org_unit").order_by("org_unit__code").first()
    return ra.org_unit if ra is not None else None


def users_of_units(units: list[OrgUnit]) -> list[User]:
    """Every account belonging to one of `units` (by role or by the unit it was created in)."""
    codes = [u.code for u in units]
    created = Event.objects.filter(action="user.create", subject_type="user", chain__fonds__in=codes).values_list(
        "subject_id", flat=True
    )
    ids = {int(pk) for pk in created if str(pk).isdigit()}
    ids.update(RoleAssignment.objects.filter(org_unit__in=units).values_list("user", flat=True))
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def _administers(actor: User | None, target: User, role: Role) -> bool:
    if actor is None or not _active(actor):
        return False
    mine = {u.pk for u in admin_units(actor, role)}
    return any(u.pk in mine for u in user_units(target))


# Predicates ---------------------------------------------------------------------------------------


def can_administer_accounts(user: User | None) -> bool:
    return bool(admin_units(user, Role.SYSADMIN))


def can_create_user_in(actor: User | None, unit: OrgUnit) -> bool:
    return unit.pk in {u.pk for u in admin_units(actor, Role.SYSADMIN)}


def can_manage_account(actor: User | None, target: User) -> bool:
    """Disable, enable, reset the password of `target`: a 系统管理员 of one of his units (never of himself)."""
    return actor is not None and actor.pk != target.pk and _administers(actor, target, Role.SYSADMIN)


def can_administer_security(user: User | None) -> bool:
    return bool(admin_units(user, Role.SECADMIN))


def can_grant_in(actor: User | None, unit: OrgUnit) -> bool:
    """Grant or revoke roles in `unit`: a 安全管理员 of the unit or of a unit above it."""
    return unit.pk in {u.pk for u in admin_units(actor, Role.SECADMIN)}


def can_secure_account(actor: User | None, target: User) -> bool:
    """Unlock, reset the TOTP device of, end the sessions of `target`: a 安全管理员 of his units."""
    return actor is not None and actor.pk != target.pk and _administers(actor, target, Role.SECADMIN)


def audit_units(user: User | None) -> list[OrgUnit]:
    """Units whose security audit `user` reads (安全审计员 of the unit or a unit above it)."""
    return admin_units(user, Role.AUDITOR)


def can_read_audit(user: User | None) -> bool:
    return bool(audit_units(user))


def sees_unattributed_audit(user: User | None) -> bool:
    """Records naming no unit (failed logins with unknown names, users without a role, anonymous refusals)
    are read by the auditors of a top-level unit only: a county auditor must not see attempts on the city."""
    return any(u.parent_id is None for u in audit_units(user))


def admin_roles_held(user: User) -> set[Role]:
    return {Role(r) for r in RoleAssignment.objects.filter(user=user).values_list("role", flat=True)} & ADMIN_ROLES
