"""Every access rule, as named predicates and fetch-or-403 helpers — all answered by the policy table.

The table lives in :mod:`jishi.accounts.policy` (role × action × org-unit relation × object state); this module
only works out, for a user and an object, which roles the user holds and in which relation the object's unit
stands to each unit where a role is held, then asks ``policy.allows``. No role set is decided here.

Scope: a role acts only in the org unit it was granted in. Supervisory roles (部领导, 干部监督, 纪检监察) also
*see* the units below theirs — a higher organization department supervises the lower ones — but they never
act there. The three administrator roles (系统管理员、安全管理员、安全审计员) see no selection records.

Role assignments and the unit tree are read once per request and cached on the user object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import Http404

from jishi.core.exceptions import PermissionDenied
from jishi.core.roles import ADMIN_ROLES, Role

from . import policy
from .models import OrgUnit, RoleAssignment, User

if TYPE_CHECKING:
    from jishi.archives.models import Volume
    from jishi.cadres.models import Cadre
    from jishi.selection.models import Batch, Nomination, StepRecord

# Role sets kept for callers that name them; all derived from the policy table.
SEE_BELOW = frozenset(r for r in Role if policy.allows((r,), "batch.view", policy.CHILD))
WORK_ROLES = policy.roles_for("batch.view")
MANAGE_BATCH = policy.roles_for("nomination.manage")
WAIVE_ROLES = policy.roles_for("step.waive")  # a step is waived only with a 部领导's approval
CORRECT_ROLES = policy.roles_for("record.correct")
VERIFY_ROLES = policy.roles_for("ledger.verify")

# Archives: 档案管理员 and 经办人 build and organize volumes; 档案管理员 or 干部科长 check them (a different
# person from the organizer); 部领导 approve destruction; 部领导、纪检监察、干部监督 place legal holds.
ARCHIVE_BUILD = policy.roles_for("archive.build")
ARCHIVE_ORGANIZE = policy.roles_for("archive.organize")
ARCHIVE_CHECK = policy.roles_for("archive.accept")
ARCHIVE_APPROVE = policy.roles_for("archive.approve_disposal")
ARCHIVE_HOLD = policy.roles_for("archive.hold")
ARCHIVE_VIEW = policy.roles_for("archive.view")
ARCHIVE_CUSTODY = policy.roles_for("archive.custody")

# can_archive(user, unit, roles) is called with these sets; each stands for one action of the table.
_ARCHIVE_ACTIONS: dict[frozenset[Role], str] = {
    ARCHIVE_BUILD: "archive.build",
    ARCHIVE_ORGANIZE: "archive.organize",
    ARCHIVE_CHECK: "archive.accept",
    ARCHIVE_APPROVE: "archive.approve_disposal",
    ARCHIVE_HOLD: "archive.hold",
    ARCHIVE_VIEW: "archive.view",
    ARCHIVE_CUSTODY: "archive.custody",
}
assert len(_ARCHIVE_ACTIONS) == 7, "archive actions must have distinct role sets"


# Per-request caches --------------------------------------------------------------------------------


def _roles_by_unit(user: User) -> dict[int, set[Role]]:
    cache: dict[int, set[Role]] = user.__dict__.setdefault("_roles_by_unit", {})
    if not cache and not user.__dict__.get("_roles_loaded"):
        for unit_id, role in RoleAssignment.objects.filter(user=user).values_list("org_unit_id", "role"):
            cache.setdefault(unit_id, set()).add(Role(role))
        user.__dict__["_roles_loaded"] = True
    return cache


def _unit_paths(user: User, *, reload: bool = False) -> dict[int, tuple[int, ...]]:
    """Every unit's root-to-unit id path (the tree is small; read once per request)."""
    paths: dict[int, tuple[int, ...]] | None = None if reload else user.__dict__.get("_unit_paths")
    if paths is None:
        parents: dict[int, int | None] = dict(OrgUnit.objects.values_list("pk", "parent_id"))
        found: dict[int, tuple[int, ...]] = {}

        def path(pk: int) -> tuple[int, ...]:
            if pk not in found:
                found[pk] = (pk,)  # provisional: a (corrupt) cycle ends here
                parent = parents.get(pk)
                found[pk] = (*path(parent), pk) if parent is not None and parent in parents else (pk,)
            return found[pk]

        for pk in parents:
            path(pk)
        paths = user.__dict__["_unit_paths"] = found
    return paths


def relation(user: User, held_unit_id: int, object_unit_id: int) -> str:
    """own / child / parent / sibling / none: where the object's unit lies seen from the unit of the role."""
    if held_unit_id == object_unit_id:
        return policy.OWN
    paths = _unit_paths(user)
    if held_unit_id not in paths or object_unit_id not in paths:  # a unit created since the cache was filled
        paths = _unit_paths(user, reload=True)
    held, obj = paths.get(held_unit_id), paths.get(object_unit_id)
    if held is None or obj is None:
        return policy.NONE
    return policy.relation_between(held, obj)


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


# The one question -----------------------------------------------------------------------------------


def can(
    user: User,
    action: str,
    unit: OrgUnit | int,
    state: str | None = None,
    *,
    roles: Iterable[Role | str] | None = None,
) -> bool:
    """May the user do ``action`` on an object of ``unit`` (in ``state``)?

    ``roles`` narrows the policy further (a step definition's responsible or signer roles): only those
    of the user's roles count.
    """
    if not _active(user):
        return False
    unit_id = unit if isinstance(unit, int) else unit.pk
    narrow = None if roles is None else {Role(r) for r in roles}
    for held_unit_id, held in _roles_by_unit(user).items():
        usable = held if narrow is None else held & narrow
        if not usable:
            continue
        rel = relation(user, held_unit_id, unit_id)
        if rel != policy.NONE and policy.allows(usable, action, rel, state):
            return True
    return False


def units_where(user: User, action: str) -> set[int]:
    """Ids of every unit where the user may do the action (state aside)."""
    if not _active(user):
        return set()
    return {pk for pk in _unit_paths(user) if can(user, action, pk)}


# Primitives kept for callers ------------------------------------------------------------------------


def roles_in(user: User, unit: OrgUnit) -> set[Role]:
    """Roles the user holds directly in this unit (cached per request on the user object)."""
    return _roles_by_unit(user).get(unit.pk, set())


def has_role(user: User, unit: OrgUnit, roles: Iterable[Role | str]) -> bool:
    """Holds one of these roles in this very unit. Prefer :func:`can` with an action of the policy."""
    if not _active(user):
        return False
    return bool(roles_in(user, unit) & {Role(r) for r in roles})


def visible_unit_ids(user: User) -> set[int]:
    """Units whose selection work the user may see."""
    return units_where(user, "batch.view")


def acting_units(user: User, roles: Iterable[Role] = MANAGE_BATCH) -> list[OrgUnit]:
    """Units where the user may create batches (or, with ``roles``, where one of those roles may)."""
    if not _active(user):
        return []
    ids = {pk for pk in _unit_paths(user) if can(user, "batch.create", pk, roles=roles)}
    return list(OrgUnit.objects.filter(pk__in=ids))


# Predicates ---------------------------------------------------------------------------------------


def can_view_unit(user: User, unit: OrgUnit) -> bool:
    return can(user, "batch.view", unit)


def can_view_batch(user: User, batch: Batch) -> bool:
    return can(user, "batch.view", batch.org_unit_id)


def can_create_batch(user: User, unit: OrgUnit) -> bool:
    return can(user, "batch.create", unit)


def can_manage_batch(user: User, batch: Batch) -> bool:
    """Add or drop nominations."""
    return can(user, "nomination.manage", batch.org_unit_id)


def can_work_on_step(user: User, batch: Batch, responsible_roles: Iterable[str], *, state: str | None = None) -> bool:
    """Start, fill in and complete a step: the step's responsible roles, or the 干部科长 who leads them —
    within the policy's upper bound for ``step.work``."""
    narrow = {Role(r) for r in responsible_roles} | {Role.SECTION_HEAD}
    return can(user, "step.work", batch.org_unit_id, state, roles=narrow)


def can_confirm_as(
    user: User, batch: Batch, role: str, signer_roles: Iterable[str], *, state: str | None = None
) -> bool:
    if role not in {str(r) for r in signer_roles}:
        return False
    try:
        as_role = Role(role)
    except ValueError:
        return False
    return can(user, "step.confirm", batch.org_unit_id, state, roles={as_role})


def can_waive(user: User, batch: Batch, *, state: str | None = None) -> bool:
    return can(user, "step.waive", batch.org_unit_id, state)


def can_correct(user: User, batch: Batch, *, state: str | None = None) -> bool:
    return can(user, "record.correct", batch.org_unit_id, state)


def verifiable_units(user: User) -> list[OrgUnit]:
    """Units whose ledger the user may verify: 干部监督、纪检监察、部领导、档案管理员, and units below."""
    return list(OrgUnit.objects.filter(pk__in=units_where(user, "ledger.verify")).order_by("code"))


def can_view_archive(user: User, unit: OrgUnit) -> bool:
    """Archive staff of the unit, and the supervisory roles of the unit or of a unit above it."""
    return can(user, "archive.view", unit)


def can_archive(user: User, unit: OrgUnit, roles: Iterable[Role], *, state: str | None = None) -> bool:
    """An archive act; ``roles`` is one of the ``ARCHIVE_*`` sets above and names the action."""
    key = frozenset(Role(r) for r in roles)
    action = _ARCHIVE_ACTIONS.get(key)
    if action is None:  # an ad-hoc set: held in this unit, never by an administrator role
        return has_role(user, unit, key - ADMIN_ROLES)
    return can(user, action, unit, state)


def can_view_cadre(user: User, cadre: Cadre) -> bool:
    return can(user, "cadre.view", cadre.org_unit_id)


def can_view_identity_number(user: User, cadre: Cadre) -> bool:
    return can(user, "field.id_number", cadre.org_unit_id)


def can_view_field(user: User, unit: OrgUnit | int, field_action: str) -> bool:
    """A sensitive field rule of the policy (``field.votes``, ``field.discipline_opinion`` …)."""
    return can(user, field_action, unit)


def can_view_step_field(user: User, batch: Batch, step_id: str, field_id: str) -> bool:
    action = policy.SENSITIVE_STEP_FIELDS.get((step_id, field_id))
    return action is None or can(user, action, batch.org_unit_id)


def hidden_step_fields(user: User, batch: Batch, step_id: str) -> set[str]:
    """Field ids of this step the user may not read (shown as “无权查看”)."""
    return {
        field_id
        for (sid, field_id), action in policy.SENSITIVE_STEP_FIELDS.items()
        if sid == step_id and not can(user, action, batch.org_unit_id)
    }


def can_view_votes(user: User, batch: Batch) -> bool:
    return can(user, "field.votes", batch.org_unit_id)


def redact_event_payload(user: User, unit: OrgUnit | int, payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A ledger event's payload as this user may read it, and the keys withheld.

    Step content and tallies are on the ledger too (step.save/confirm/complete carry ``data``, tally.save
    carries ``lines``), so the field rules apply to events as to pages. A redacted event cannot be
    re-hashed by the reader; its inclusion proof and the server's chain verification still hold.
    """
    withheld: list[str] = []
    data = payload.get("data")
    step_id = payload.get("step")
    if isinstance(data, dict) and isinstance(step_id, str):
        hidden = {
            field_id
            for (sid, field_id), action in policy.SENSITIVE_STEP_FIELDS.items()
            if sid == step_id and field_id in data and not can(user, action, unit)
        }
        if hidden:
            payload = {**payload, "data": {k: (None if k in hidden else v) for k, v in data.items()}}
            withheld.extend(f"data.{k}" for k in sorted(hidden))
    if "lines" in payload and not can(user, "field.votes", unit):
        payload = {**payload, "lines": {}}
        withheld.append("lines")
    return payload, withheld


# Fetch-or-403 helpers ------------------------------------------------------------------------------


def require(allowed: bool, message: str = "您没有权限执行此操作。") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _get_or_404(queryset: Any, pk: Any) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_volume_for_user(user: User, pk: Any) -> Volume:
    from jishi.archives.models import Volume

    volume = _get_or_404(
        Volume.objects.select_related("org_unit", "batch__procedure", "batch__org_unit", "nomination__cadre"), pk
    )
    require(can_view_archive(user, volume.org_unit), "您无权查看该案卷。")
    return volume


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
