"""Every access rule, as named predicates and fetch-or-403 helpers.

Scope: a role acts only in the org unit it was granted in. Supervisory roles (部领导, 干部监督,
纪检监察) also *see* the units below theirs — a higher organization department supervises the lower
ones — but they never act there. 系统管理员 manages accounts and sees no selection records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import Http404

from jishi.core.exceptions import PermissionDenied
from jishi.core.roles import ADMIN_ROLES, Role

from .models import OrgUnit, RoleAssignment, User

if TYPE_CHECKING:
    from jishi.archives.models import Volume
    from jishi.cadres.models import Cadre
    from jishi.selection.models import Batch, Nomination, StepRecord

SEE_BELOW = frozenset({Role.DEPT_LEADER, Role.SUPERVISION, Role.DISCIPLINE})
WORK_ROLES = frozenset(set(Role) - ADMIN_ROLES)
MANAGE_BATCH = frozenset({Role.CLERK, Role.SECTION_HEAD})
WAIVE_ROLES = frozenset({Role.DEPT_LEADER})  # a step is waived only with a 部领导's approval
CORRECT_ROLES = frozenset({Role.SECTION_HEAD, Role.DEPT_LEADER})


def roles_in(user: User, unit: OrgUnit) -> set[Role]:
    """Roles the user holds directly in this unit (cached per request on the user object)."""
    cache: dict[int, set[Role]] = user.__dict__.setdefault("_roles_by_unit", {})
    if not cache and not user.__dict__.get("_roles_loaded"):
        for ra in RoleAssignment.objects.filter(user=user):
            cache.setdefault(ra.org_unit_id, set()).add(Role(ra.role))
        user.__dict__["_roles_loaded"] = True
    return cache.get(unit.pk, set())


def has_role(user: User, unit: OrgUnit, roles: Iterable[Role | str]) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(roles_in(user, unit) & {Role(r) for r in roles})


def visible_unit_ids(user: User) -> set[int]:
    """Units whose selection work the user may see."""
    if not user.is_authenticated or not user.is_active:
        return set()
    ids: set[int] = set()
    for ra in RoleAssignment.objects.filter(user=user).select_related("org_unit"):
        role = Role(ra.role)
        if role not in WORK_ROLES:
            continue
        if role in SEE_BELOW:
            ids.update(u.pk for u in ra.org_unit.descendants_and_self())
        else:
            ids.add(ra.org_unit_id)
    return ids


def acting_units(user: User, roles: Iterable[Role] = MANAGE_BATCH) -> list[OrgUnit]:
    ids = RoleAssignment.objects.filter(user=user, role__in=[r.value for r in roles]).values_list("org_unit", flat=True)
    return list(OrgUnit.objects.filter(pk__in=ids))


# Predicates ---------------------------------------------------------------------------------------


def can_view_unit(user: User, unit: OrgUnit) -> bool:
    return unit.pk in visible_unit_ids(user)


def can_view_batch(user: User, batch: Batch) -> bool:
    return can_view_unit(user, batch.org_unit)


def can_create_batch(user: User, unit: OrgUnit) -> bool:
    return has_role(user, unit, MANAGE_BATCH)


def can_manage_batch(user: User, batch: Batch) -> bool:
    """Add or drop nominations."""
    return has_role(user, batch.org_unit, MANAGE_BATCH)


def can_work_on_step(user: User, batch: Batch, responsible_roles: Iterable[str]) -> bool:
    """Start, fill in and complete a step: the step's responsible roles, or the 干部科长 who leads them."""
    return has_role(user, batch.org_unit, set(responsible_roles) | {Role.SECTION_HEAD})


def can_confirm_as(user: User, batch: Batch, role: str, signer_roles: Iterable[str]) -> bool:
    return role in set(signer_roles) and has_role(user, batch.org_unit, [role])


def can_waive(user: User, batch: Batch) -> bool:
    return has_role(user, batch.org_unit, WAIVE_ROLES)


def can_correct(user: User, batch: Batch) -> bool:
    return has_role(user, batch.org_unit, CORRECT_ROLES)


VERIFY_ROLES = frozenset({Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER, Role.ARCHIVIST})


def verifiable_units(user: User) -> list[OrgUnit]:
    """Units whose ledger the user may verify: 干部监督、纪检监察、部领导、档案管理员, and units below."""
    units: dict[int, OrgUnit] = {}
    for ra in RoleAssignment.objects.filter(user=user, role__in=[r.value for r in VERIFY_ROLES]).select_related(
        "org_unit"
    ):
        for unit in ra.org_unit.descendants_and_self():
            units[unit.pk] = unit
    return sorted(units.values(), key=lambda u: u.code)


# Archives: 档案管理员 and 经办人 build and organize volumes; 档案管理员 or 干部科长 check them (a different
# person from the organizer); 部领导 approve destruction; 部领导、纪检监察、干部监督 place legal holds.
ARCHIVE_BUILD = frozenset({Role.ARCHIVIST, Role.CLERK, Role.SECTION_HEAD})
ARCHIVE_ORGANIZE = frozenset({Role.ARCHIVIST, Role.CLERK})
ARCHIVE_CHECK = frozenset({Role.ARCHIVIST, Role.SECTION_HEAD})
ARCHIVE_APPROVE = frozenset({Role.DEPT_LEADER})
ARCHIVE_HOLD = frozenset({Role.DEPT_LEADER, Role.DISCIPLINE, Role.SUPERVISION})
ARCHIVE_VIEW = frozenset({Role.ARCHIVIST, Role.CLERK, Role.SECTION_HEAD, *SEE_BELOW})


def can_view_archive(user: User, unit: OrgUnit) -> bool:
    """Archive staff of the unit, and the supervisory roles of the unit or of a unit above it."""
    if has_role(user, unit, ARCHIVE_VIEW):
        return True
    parent = unit.parent
    while parent is not None:
        if has_role(user, parent, SEE_BELOW):
            return True
        parent = parent.parent
    return False


def can_archive(user: User, unit: OrgUnit, roles: Iterable[Role]) -> bool:
    return has_role(user, unit, roles)


def get_volume_for_user(user: User, pk: Any) -> Volume:
    from jishi.archives.models import Volume

    volume = _get_or_404(
        Volume.objects.select_related("org_unit", "batch__procedure", "batch__org_unit", "nomination__cadre"), pk
    )
    require(can_view_archive(user, volume.org_unit), "您无权查看该案卷。")
    return volume


def can_view_cadre(user: User, cadre: Cadre) -> bool:
    return can_view_unit(user, cadre.org_unit)


def can_view_identity_number(user: User, cadre: Cadre) -> bool:
    return has_role(user, cadre.org_unit, {Role.CLERK, Role.SECTION_HEAD, Role.DEPT_LEADER, Role.SUPERVISION})


# Fetch-or-403 helpers ------------------------------------------------------------------------------


def require(allowed: bool, message: str = "您没有权限执行此操作。") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _get_or_404(queryset: Any, pk: Any) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_batch_for_user(user: User, pk: Any) -> Batch:
    from jishi.selection.models import Batch

    batch = _get_or_404(Batch.objects.select_related("org_unit", "procedure"), pk)
    require(can_view_batch(user, batch), "您无权查看该批次。")
    return batch


def get_nomination_for_user(user: User, pk: Any) -> Nomination:
    from jishi.selection.models import Nomination

    nomination = _get_or_404(
        Nomination.objects.select_related("batch__org_unit", "batch__procedure", "cadre", "position"), pk
    )
    require(can_view_batch(user, nomination.batch), "您无权查看该人选。")
    return nomination


def get_record_for_user(user: User, pk: Any) -> StepRecord:
    from jishi.selection.models import StepRecord

    record = _get_or_404(
        StepRecord.objects.select_related("batch__org_unit", "batch__procedure", "nomination__cadre"), pk
    )
    require(can_view_batch(user, record.batch), "您无权查看该纪实记录。")
    return record


def get_cadre_for_user(user: User, pk: Any) -> Cadre:
    from jishi.cadres.models import Cadre

    cadre = _get_or_404(Cadre.objects.select_related("org_unit"), pk)
    require(can_view_cadre(user, cadre), "您无权查看该干部信息。")
    return cadre
