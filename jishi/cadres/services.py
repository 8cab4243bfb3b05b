"""Cadre master data changes. The ledger keeps a keyed hash of the ID number, never the number."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.core import crypto
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import Role
from jishi.ledger.services import event_append

from . import lrmx
from .approval_data import ApprovalForm
from .approval_io import EXTRA_FIELDS, PARTY_JOIN_TEXT, FieldChange, cadre_fields_from_form, form_from_cadre, lrmx_diff
from .models import Cadre, FamilyMember, Position, RankLevel

if TYPE_CHECKING:
    from jishi.selection.models import Nomination

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_valid(value: str) -> bool:
    """GB 11643 citizen ID: 17 digits + ISO 7064 MOD 11-2 check character."""
    value = value.strip().upper()
    # isascii(): str.isdigit() also accepts full-width and superscript digits.
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def _full_clean(instance: models.Model, *, exclude: list[str], prefix: str = "干部信息有误") -> None:
    """Model validation with the errors as one Chinese sentence naming each field by its verbose_name."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        fields = {
            getattr(instance._meta.get_field(k), "verbose_name", k): v
            for k, v in exc.message_dict.items()
            if k != "__all__"
        }
        detail = "；".join(f"{k}：{'，'.join(v)}" for k, v in fields.items())
        raise ApplicationError(f"{prefix}：{detail}", code="invalid_cadre") from None


def _month(value: Any, label: str, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ApplicationError(f"请填写{label}。", code="required")
        return None
    try:
        year, month = str(value)[:7].split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ApplicationError(f"{label}格式应为 年-月（如 1985-07）。", code="invalid_date") from None


def position_set_key_post(*, actor: User, position: Position, is_key_post: bool, reason: str) -> Position:
    """Flag a post as a key post (重要岗位): its nominations then need a supervisor's signed review first."""
    perms.require(
        perms.has_role(actor, position.org_unit, {Role.SECTION_HEAD, Role.DEPT_LEADER, Role.SUPERVISION}),
        "只有干部科长、部领导或干部监督人员可以设定重要岗位。",
    )
    reason = (reason or "").strip()
    if not reason or len(reason) > 500 or "\x00" in reason:
        raise ApplicationError("请说明设定或取消重要岗位的理由（500 字以内）。", code="required")
    with transaction.atomic():
        position = Position.objects.select_for_update().get(pk=position.pk)
        position.is_key_post = is_key_post
        position.save(update_fields=["is_key_post"])
        event_append(
            fonds=position.org_unit.code,
            actor=actor,
            action="position.key_post",
            subject_type="position",
            subject_id=position.pk,
            payload={"name": str(position), "is_key_post": is_key_post, "reason": reason},
        )
    return position


def position_create(
    *, actor: User | None, org_unit: OrgUnit, unit_name: str, title: str, rank_level: str, quota: int, filled: int = 0
) -> Position:
    if rank_level not in RankLevel.values:
        raise ApplicationError("职务层次不正确。", code="invalid_rank")
    if quota < 0 or filled < 0:
        raise ApplicationError("职数不能是负数。", code="invalid_quota")
    with transaction.atomic():
        position = Position.objects.create(
            org_unit=org_unit, unit_name=unit_name, title=title, rank_level=rank_level, quota=quota, filled=filled
        )
        event_append(
            fonds=org_unit.code,
            actor=actor,
            action="position.create",
            subject_type="position",
            subject_id=position.pk,
            payload={"name": str(position), "rank_level": rank_level, "quota": quota, "filled": filled},
        )
    return position


_PLAIN_FIELDS = (
    "name",
    "sex",
    "ethnicity",
    "native_place",
    "birthplace",
    "party_status",
    "health",
    "fulltime_education",
    "fulltime_degree",
    "fulltime_school_major",
    "inservice_education",
    "inservice_degree",
    "inservice_school_major",
    "professional_title",
    "expertise",
    "rewards_punishments",
    "annual_appraisals",
    "current_post",
    "current_rank",
)
_MONTHS = (
    ("birth_month", "出生年月"),
    ("party_join_month", "入党时间"),
    ("work_start_month", "参加工作时间"),
    ("current_post_since", "任现职时间"),
    ("current_rank_since", "任现职级时间"),
)


def _require_editor(actor: User | None, org_unit: OrgUnit) -> None:
    """A person edits master data only as 经办人 or 干部科长 of the unit; ``actor=None`` is the seed and the demo."""
    if actor is not None:
        perms.require(
            perms.has_role(actor, org_unit, LRMX_IMPORT_ROLES), "只有本单位的经办人或干部科长可以维护干部信息。"
        )


def _apply_values(cadre: Cadre, data: dict[str, Any]) -> None:
    """Validate the 任免审批表 fields of ``data`` and set them on ``cadre`` (not saved)."""
    id_number = str(data.get("id_number", "")).strip()
    if id_number and not id_number_valid(id_number):
        raise ApplicationError("身份证号校验位不正确，请核对。", code="invalid_id_number")
    months = {key: _month(data.get(key), label, required=key != "party_join_month") for key, label in _MONTHS}
    if data.get("current_rank") not in RankLevel.values:
        raise ApplicationError("现任职级不正确。", code="invalid_rank")
    resume = data.get("resume", "")
    for key in _PLAIN_FIELDS:
        setattr(cadre, key, data.get(key, ""))
    for key, value in months.items():
        setattr(cadre, key, value)
    cadre.resume = "\n".join(resume) if isinstance(resume, list) else str(resume)
    cadre.grassroots_months = int(data.get("grassroots_months") or 0)
    cadre.training_hours_5y = int(data.get("training_hours_5y") or 0)
    cadre.set_id_number(id_number)
    _full_clean(cadre, exclude=["org_unit", "id_number_encrypted", "id_number_hash"])


def _set_family(cadre: Cadre, family: list[dict[str, Any]]) -> None:
    cadre.family.all().delete()
    for member in family:
        FamilyMember.objects.create(
            cadre=cadre,
            relation=member["relation"],
            name=member["name"],
            birth_month=_month(member.get("birth_month"), "家庭成员出生年月", required=False),
            political_status=member.get("political_status", ""),
            work_unit_position=member.get("work_unit_position", ""),
        )


def cadre_create(*, actor: User | None, org_unit: OrgUnit, data: dict[str, Any]) -> Cadre:
    """Create a cadre from 干部任免审批表 fields (months as YYYY-MM, résumé as a list of lines)."""
    _require_editor(actor, org_unit)
    cadre = Cadre(org_unit=org_unit)
    _apply_values(cadre, data)
    with transaction.atomic():
        cadre.save()
        _set_family(cadre, data.get("family", []))
        event_append(
            fonds=org_unit.code,
            actor=actor,
            action="cadre.create",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={"name": cadre.name, "current_post": cadre.current_post, "id_number_hash": cadre.id_number_hash},
        )
    return cadre


def cadre_update(*, actor: User, cadre: Cadre, data: dict[str, Any]) -> Cadre:
    """Replace a cadre's 任免审批表 fields and family; the event names the fields that changed (not values)."""
    _require_editor(actor, cadre.org_unit)
    with transaction.atomic():
        cadre = Cadre.objects.select_for_update().select_related("org_unit").get(pk=cadre.pk)
        before = {f: getattr(cadre, f) for f in (*_PLAIN_FIELDS, *(k for k, _ in _MONTHS), "resume", "id_number_hash")}
        _apply_values(cadre, data)
        cadre.save()
        _set_family(cadre, data.get("family", []))
        changed = sorted(f for f, v in before.items() if getattr(cadre, f) != v)
        event_append(
            fonds=cadre.org_unit.code,
            actor=actor,
            action="cadre.update",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={"name": cadre.name, "changed": changed, "id_number_hash": cadre.id_number_hash},
        )
    return cadre


def cadre_delete(*, actor: User, cadre: Cadre, reason: str) -> None:
    """Remove master data entered by mistake — only while no batch names the person; the event keeps who and why."""
    _require_editor(actor, cadre.org_unit)
    reason = (reason or "").strip()
    if not reason or len(reason) > 500 or "\x00" in reason:
        raise ApplicationError("请填写删除理由（500 字以内）。", code="required", extra={"field": "reason"})
    with transaction.atomic():
        cadre = Cadre.objects.select_for_update().select_related("org_unit").get(pk=cadre.pk)
        if cadre.nominations.exists():
            raise ApplicationError("该干部已列入调整批次，纪实须保留，不能删除。", code="in_use")
        event_append(
            fonds=cadre.org_unit.code,
            actor=actor,
            action="cadre.delete",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={"name": cadre.name, "reason": reason, "id_number_hash": cadre.id_number_hash},
        )
        cadre.family.all().delete()
        try:
            cadre.delete()
        except models.ProtectedError:
            raise ApplicationError("该干部信息已被其他纪实引用，不能删除。", code="in_use") from None


# 任免审批表 (LRMX) import and export --------------------------------------------------------------------

LRMX_IMPORT_ROLES = frozenset({Role.CLERK, Role.SECTION_HEAD})
_RANK_FIELDS = ["current_rank", "current_post_since", "current_rank_since"]
_FAMILY_FIELDS = ["relation", "name", "birth_month", "birth_text", "political_status", "work_unit_position"]
# A résumé line still open at its end: "2015.03--  内江市财政局预算科科长" (the current post).
_OPEN_RESUME_LINE = re.compile(r"^\s*(\d{4})\.(\d{1,2})\s*[-—–－~～]+\s*(?!\d)")


@dataclass(frozen=True)
class LrmxPreview:
    """What importing a file would do: its form, the cadre it updates (None = a new cadre) and the changes."""

    form: ApprovalForm
    cadre: Cadre | None
    changes: list[FieldChange]
    sha256: str
    warnings: tuple[str, ...]
    suggested_post_since: str  # "YYYY-MM" from the résumé's open last line, for a new cadre's 任现职时间


def _require_importer(actor: User, org_unit: OrgUnit) -> None:
    perms.require(
        perms.has_role(actor, org_unit, LRMX_IMPORT_ROLES), "只有本单位的经办人或干部科长可以导入任免审批表。"
    )


def _suggested_post_since(resume: str) -> str:
    for line in reversed(resume.splitlines()):
        match = _OPEN_RESUME_LINE.match(line)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{match.group(1)}-{int(match.group(2)):02d}"
    return ""


def _lrmx_match(org_unit: OrgUnit, values: dict[str, Any]) -> Cadre | None:
    """The cadre a file is about: by ID number (keyed hash) in this unit, else by name and birth month."""
    id_number = values["id_number"]
    if id_number:
        found = Cadre.objects.filter(org_unit=org_unit, id_number_hash=crypto.lookup_hash(id_number)).first()
        if found is not None:
            return found
    candidates = Cadre.objects.filter(org_unit=org_unit, name=values["name"], birth_month=values["birth_month"])
    if id_number:
        candidates = candidates.filter(id_number_hash="")  # a different recorded number is another person
    found_all = list(candidates[:2])
    if len(found_all) > 1:
        raise ApplicationError(
            f"本单位有多名姓名为「{values['name']}」、出生年月相同的干部，无法确定对应哪一位；"
            "请在任免审批表中填写身份证号后重新导入。",
            code="lrmx_ambiguous",
        )
    return found_all[0] if found_all else None


def _lrmx_apply(cadre: Cadre, values: dict[str, Any]) -> None:
    """Copy a form's values onto a cadre (unsaved). Other keys of approval_extra are kept."""
    for key, value in values.items():
        if key not in {"id_number", "family", "approval_extra"}:
            setattr(cadre, key, value)
    extra = {k: v for k, v in (cadre.approval_extra or {}).items() if k not in EXTRA_FIELDS and k != PARTY_JOIN_TEXT}
    cadre.approval_extra = {**extra, **values["approval_extra"]}
    cadre.set_id_number(values["id_number"])


def _lrmx_validate(cadre: Cadre, values: dict[str, Any], *, exclude: list[str]) -> list[FamilyMember]:
    _full_clean(cadre, exclude=["org_unit", "id_number_encrypted", "id_number_hash", *exclude])
    family = [FamilyMember(cadre=cadre, **row) for row in values["family"]]
    for number, member in enumerate(family, start=1):
        _full_clean(member, exclude=["cadre"], prefix=f"家庭成员第 {number} 行有误")
    return family


def _lrmx_read(org_unit: OrgUnit, data: bytes) -> tuple[LrmxPreview, dict[str, Any]]:
    result = lrmx.parse_with_warnings(data, max_bytes=settings.LRMX_MAX_BYTES)
    values = cadre_fields_from_form(result.form)
    if values["id_number"] and not id_number_valid(values["id_number"]):
        raise ApplicationError("任免审批表中的身份证号校验位不正确，请核对。", code="invalid_id_number")
    cadre = _lrmx_match(org_unit, values)
    # Validate now so the preview already names every problem; a new cadre's 职级 fields come with the confirmation.
    probe = Cadre(org_unit=org_unit)
    _lrmx_apply(probe, values)
    _lrmx_validate(probe, values, exclude=_RANK_FIELDS)
    preview = LrmxPreview(
        form=result.form,
        cadre=cadre,
        changes=lrmx_diff(cadre, result.form),
        sha256=hashlib.sha256(data).hexdigest(),
        warnings=result.warnings,
        suggested_post_since=_suggested_post_since(result.form.resume),
    )
    return preview, values


def cadre_lrmx_preview(*, actor: User, org_unit: OrgUnit, data: bytes) -> LrmxPreview:
    """Read an uploaded 任免审批表 and say what importing it would change. Changes nothing."""
    _require_importer(actor, org_unit)
    return _lrmx_read(org_unit, data)[0]


def cadre_lrmx_import(
    *,
    actor: User,
    org_unit: OrgUnit,
    data: bytes,
    confirm_sha256: str,
    current_rank: str = "",
    current_post_since: str = "",
    current_rank_since: str = "",
) -> Cadre:
    """Create or update a cadre from the file the user previewed (same sha256), replacing the family rows.

    The 职级 fields are not on the 任免审批表; they are needed (and used) only when the file is a new cadre —
    任现职时间 defaults to the résumé's open last line, 任现职级时间 to 任现职时间.
    """
    _require_importer(actor, org_unit)
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != confirm_sha256.strip().lower():
        raise lrmx.LrmxError("文件内容与预览时的不一致，请重新上传并核对差异后再确认导入。", code="lrmx_stale")
    with transaction.atomic():
        preview, values = _lrmx_read(org_unit, data)
        if preview.cadre is None:
            if current_rank not in RankLevel.values:
                raise ApplicationError("新建干部需要选择现任职级。", code="invalid_rank")
            post_since = _month(current_post_since or preview.suggested_post_since, "任现职时间")
            rank_since = _month(current_rank_since, "任现职级时间", required=False) or post_since
            assert post_since is not None and rank_since is not None  # _month raises when a required one is empty
            form = preview.form
            party_status = "中共党员" if values["party_join_month"] else (form.party_join[:30] or "群众")
            cadre = Cadre(
                org_unit=org_unit,
                party_status=party_status,
                current_rank=current_rank,
                current_post_since=post_since,
                current_rank_since=rank_since,
            )
        else:
            # Lock the row: two imports of files for the same person must not interleave.
            cadre = Cadre.objects.select_for_update().get(pk=preview.cadre.pk)
        _lrmx_apply(cadre, values)
        family = _lrmx_validate(cadre, values, exclude=[])
        created = cadre.pk is None
        cadre.save()
        cadre.family.all().delete()
        for member in family:
            member.cadre = cadre
        FamilyMember.objects.bulk_create(family)
        event_append(
            fonds=org_unit.code,
            actor=actor,
            action="cadre.lrmx_import",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={
                "result": "created" if created else "updated",
                "fields": list(dict.fromkeys(change.field for change in preview.changes)),
                "file_sha256": sha256,
                "name": cadre.name,
                "id_number_hash": cadre.id_number_hash,
                "ignored_elements": len(preview.warnings),
            },
        )
    return cadre


def cadre_lrmx_export(*, actor: User | None, cadre: Cadre, nomination: Nomination | None = None) -> bytes:
    """The cadre's 任免审批表 as an ``.lrmx`` file; records who took a copy (it carries the ID number).

    ``actor=None`` is a management command run on the server (recorded as 系统), as in documents.services.
    """
    if actor is not None:
        allowed = perms.can_view_identity_number(actor, cadre)
        perms.require(allowed, "只有本单位的经办人、干部科长、部领导或干部监督可以导出任免审批表。")
    if nomination is not None and nomination.cadre_id != cadre.pk:
        raise ApplicationError("该人选不是这名干部。", code="nomination_mismatch")
    data = lrmx.build(form_from_cadre(cadre, nomination))
    with transaction.atomic():
        event_append(
            fonds=cadre.org_unit.code,
            actor=actor,
            action="cadre.lrmx_export",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={
                "name": cadre.name,
                "nomination": nomination.number if nomination is not None else "",
                "file_sha256": hashlib.sha256(data).hexdigest(),
            },
        )
    return data
