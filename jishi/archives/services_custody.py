"""Custody after archiving: hand-over to the personnel file (signed), legal holds, and disposition —
expired items are destroyed only after a 部领导's signed approval and with a signed execution record,
never while a hold is active, and the item rows stay (marked 已销毁) so the catalogue shows the gap.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jishi.accounts import keys
from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.core.exceptions import ApplicationError
from jishi.ledger.models import Event
from jishi.ledger.services import event_append

from . import selectors
from .models import (
    ArchiveItem,
    Disposition,
    DispositionStatus,
    LegalHold,
    PersonnelTransfer,
    Volume,
    VolumeKind,
    VolumeStatus,
)
from .services import _sign


def _text(value: str, label: str, *, max_length: int = 2000) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(f"请填写{label}。", code="required", extra={"field": label})
    if len(value) > max_length or "\x00" in value:
        raise ApplicationError(f"{label}过长或含有无法保存的字符。", code="invalid_text", extra={"field": label})
    return value


def _event(unit: OrgUnit, actor: User, action: str, subject: str, pk: int, payload: dict[str, Any]) -> Event:
    return event_append(
        fonds=unit.code, actor=actor, action=action, subject_type=subject, subject_id=pk, payload=payload
    )


def transfer_sign(*, actor: User, volume: Volume, received_by: str, pin: str) -> PersonnelTransfer:
    """移交: the archivist signs the hand-over of the listed materials to the personnel-file office."""
    perms.require(
        perms.can_archive(actor, volume.org_unit, {perms.Role.ARCHIVIST}), "只有本部门的档案管理员可以办理移交。"
    )
    if volume.kind != VolumeKind.PERSONAL or volume.status != VolumeStatus.ARCHIVED:
        raise ApplicationError("只有已归档的个人文书档案可以向干部人事档案移交材料。", code="not_archived")
    received_by = _text(received_by, "接收人", max_length=100)
    rows = selectors.personnel_items(volume)
    if not rows:
        raise ApplicationError("该案卷没有应归入干部人事档案的材料。", code="nothing_to_transfer")
    key, private = keys.unseal(user=actor, pin=pin)
    with transaction.atomic():
        volume = Volume.objects.select_for_update().get(pk=volume.pk)
        if PersonnelTransfer.objects.filter(volume=volume).exists():
            raise ApplicationError("该案卷的材料已经移交过。", code="already_transferred")
        listed = [{"item": i.pk, "code": i.code, "title": i.title, "category": c, "sha256": i.sha256} for i, c in rows]
        event = _event(
            volume.org_unit,
            actor,
            "archive.transfer_sign",
            "volume",
            volume.pk,
            {
                "volume": volume.code,
                "role": "handover",
                "received_by": received_by,
                "items": listed,
                "key_id": key.key_id,
            },
        )
        _sign(event, actor, key.key_id, private, "handover")
        return PersonnelTransfer.objects.create(
            volume=volume,
            rows=[{"item": r["item"], "category": r["category"]} for r in listed],
            handed_by=actor,
            received_by=received_by,
            handed_at=event.recorded_at,
            event_seq=event.seq,
        )


def hold_place(*, actor: User, volume: Volume, reason: str) -> LegalHold:
    """冻结: while an inquiry or a case needs the file, nothing of it may be destroyed."""
    perms.require(
        perms.can_archive(actor, volume.org_unit, perms.ARCHIVE_HOLD),
        "只有部领导、纪检监察或干部监督人员可以冻结档案。",
    )
    reason = _text(reason, "冻结理由")
    with transaction.atomic():
        hold = LegalHold.objects.create(volume=volume, reason=reason, placed_by=actor, placed_at=timezone.now())
        _event(
            volume.org_unit,
            actor,
            "archive.hold_place",
            "volume",
            volume.pk,
            {"volume": volume.code, "hold": hold.pk, "reason": reason},
        )
    return hold


def hold_release(*, actor: User, hold: LegalHold, reason: str) -> LegalHold:
    volume = hold.volume
    perms.require(
        perms.can_archive(actor, volume.org_unit, perms.ARCHIVE_HOLD),
        "只有部领导、纪检监察或干部监督人员可以解除冻结。",
    )
    reason = _text(reason, "解除理由")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is not None:
            raise ApplicationError("该冻结已经解除。", code="released")
        hold.released_by, hold.released_at, hold.release_reason = actor, timezone.now(), reason
        hold.save()
        _event(
            volume.org_unit,
            actor,
            "archive.hold_release",
            "volume",
            volume.pk,
            {"volume": volume.code, "hold": hold.pk, "reason": reason},
        )
    return hold


def _held(items: list[ArchiveItem]) -> list[str]:
    held = LegalHold.objects.filter(volume__in={i.volume_id for i in items}, released_at__isnull=True)
    return sorted({h.volume.code for h in held.select_related("volume")})


def disposition_propose(
    *, actor: User, unit: OrgUnit, items: list[ArchiveItem], title: str, reason: str
) -> Disposition:
    """鉴定: the archivist lists expired items for destruction, with the appraisal opinion."""
    perms.require(perms.can_archive(actor, unit, {perms.Role.ARCHIVIST}), "只有本部门的档案管理员可以提出销毁鉴定。")
    title, reason = _text(title, "题名", max_length=200), _text(reason, "鉴定意见")
    if not items:
        raise ApplicationError("请选择要鉴定销毁的到期文件。", code="required")
    expired = {i.pk for i in selectors.expired_items(unit)}
    early = [i.code for i in items if i.pk not in expired]
    if early:
        raise ApplicationError(f"这些文件保管期限未满或已销毁，不能列入：{'、'.join(early[:10])}", code="not_expired")
    held = _held(items)
    if held:
        raise ApplicationError(f"这些案卷已被冻结，其文件不能列入销毁：{'、'.join(held)}", code="held")
    with transaction.atomic():
        disposition = Disposition.objects.create(
            org_unit=unit, title=title, reason=reason, proposed_by=actor, proposed_at=timezone.now()
        )
        disposition.items.set(items)
        _event(
            unit,
            actor,
            "archive.disposition_propose",
            "disposition",
            disposition.pk,
            {"title": title, "reason": reason, "items": [{"code": i.code, "sha256": i.sha256} for i in items]},
        )
    return disposition


def disposition_decide(*, actor: User, disposition: Disposition, approve: bool, note: str, pin: str) -> Disposition:
    """批准 (signed) or refuse a destruction list; only a 部领导, never the proposer."""
    perms.require(perms.can_archive(actor, disposition.org_unit, perms.ARCHIVE_APPROVE), "只有部领导可以批准销毁。")
    if disposition.proposed_by_id == actor.pk:
        raise ApplicationError("提出人不能批准自己提出的销毁清单。", code="same_person")
    note = (note or "").strip()[:2000]
    key, private = keys.unseal(user=actor, pin=pin)
    with transaction.atomic():
        disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
        if disposition.status != DispositionStatus.PROPOSED:
            raise ApplicationError("该销毁清单已经处理过。", code="decided")
        items = list(disposition.items.all())
        if approve and (held := _held(items)):
            raise ApplicationError(f"案卷已被冻结，不能批准销毁：{'、'.join(held)}", code="held")
        action = "archive.disposition_approve" if approve else "archive.disposition_reject"
        event = _event(
            disposition.org_unit,
            actor,
            action,
            "disposition",
            disposition.pk,
            {
                "role": "approver",
                "approve": approve,
                "note": note,
                "key_id": key.key_id,
                "items": [{"code": i.code, "sha256": i.sha256} for i in items],
            },
        )
        _sign(event, actor, key.key_id, private, "approver")
        disposition.status = DispositionStatus.APPROVED if approve else DispositionStatus.REJECTED
        disposition.decided_by, disposition.decided_at, disposition.decision_note = actor, event.recorded_at, note
        disposition.save()
    return disposition


def _erase(items: list[ArchiveItem]) -> None:
    """Delete the destroyed content, unless another live item or an unarchived material still uses it."""
    from jishi.core import storage
    from jishi.selection.models import Material

    for sha in {i.sha256 for i in items if i.sha256}:
        if ArchiveItem.objects.filter(sha256=sha, destroyed=False).exists():
            continue
        destroyed_materials = [i.source_id for i in items if i.source_type == "material" and i.sha256 == sha]
        if Material.objects.filter(sha256=sha).exclude(pk__in=destroyed_materials).exists():
            continue
        storage.material_storage().delete(storage.name_for(sha))


def disposition_execute(*, actor: User, disposition: Disposition, pin: str) -> Disposition:
    """销毁: the archivist records the destruction (signed); the rows stay, marked 已销毁, so no gap is silent."""
    perms.require(
        perms.can_archive(actor, disposition.org_unit, {perms.Role.ARCHIVIST}), "只有本部门的档案管理员可以执行销毁。"
    )
    key, private = keys.unseal(user=actor, pin=pin)
    with transaction.atomic():
        disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
        if disposition.status != DispositionStatus.APPROVED:
            raise ApplicationError("销毁清单须经部领导批准后才能执行。", code="not_approved")
        items = list(disposition.items.all())
        held = _held(items)
        if held:
            raise ApplicationError(f"案卷已被冻结，不能销毁：{'、'.join(held)}", code="held")
        event = _event(
            disposition.org_unit,
            actor,
            "archive.disposition_execute",
            "disposition",
            disposition.pk,
            {"role": "executor", "key_id": key.key_id, "items": [{"code": i.code, "sha256": i.sha256} for i in items]},
        )
        _sign(event, actor, key.key_id, private, "executor")
        ArchiveItem.objects.filter(pk__in=[i.pk for i in items]).update(destroyed=True)
        transaction.on_commit(lambda: _erase(items))
        disposition.status = DispositionStatus.EXECUTED
        disposition.executed_by, disposition.executed_at = actor, event.recorded_at
        disposition.save()
    return disposition
