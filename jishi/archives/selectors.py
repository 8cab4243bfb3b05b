"""Reads for the archive pages, documents and exports: catalogue, transfer list, review list."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from jishi.accounts.models import OrgUnit, User
from jishi.ledger.models import Event

from . import numbering
from .catalogue_data import (
    BackupSheet,
    Catalogue,
    CatalogueRow,
    DispositionList,
    DispositionRow,
    TransferList,
    TransferRow,
)
from .models import ArchiveItem, Disposition, ItemType, PersonnelTransfer, Volume, VolumeKind, VolumeStatus

# 干部人事档案分类 (十大类): what of a personal volume goes into the cadre's own file, and under which class.
PERSONNEL_CATEGORIES = {
    ItemType.APPROVAL_FORM: "9-2 任免",
    "I36": "9-2 任免",  # 试用期满考核材料及正式任职通知
    "I25": "3 鉴定、考核、考察",  # 考察材料 + 考察组任用建议
    "I19": "3 鉴定、考核、考察",  # 民主测评/征求意见汇总
    "I21": "10 其他",  # 个人有关事项报告查核结果
    "I22": "8 廉政",  # 党风廉政意见回复
    "I23": "10 其他",  # 信访举报核查 / 经济责任审计报告
}


def ymd(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%Y%m%d")


def person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _signature(fonds: str, seq: int | None) -> str:
    if seq is None:
        return ""
    event = Event.objects.filter(chain__fonds=fonds, seq=seq).prefetch_related("signatures").first()
    sig = event.signatures.first() if event else None
    return f"电子签名 密钥 {sig.key_id} · 台账 {fonds}#{seq}" if sig else f"台账 {fonds}#{seq}"


def backup_sheet(volume: Volume) -> BackupSheet | None:
    if volume.organized_by is None:
        return None
    fonds = volume.org_unit.code
    return BackupSheet(
        notes=volume.notes,
        organizer=person(volume.organized_by),
        organized_on=ymd(volume.organized_at),
        organizer_signature=_signature(fonds, volume.organize_event),
        checker=person(volume.checked_by),
        checked_on=ymd(volume.checked_at),
        checker_signature=_signature(fonds, volume.accept_event),
    )


def catalogue(volume: Volume) -> Catalogue:
    items = list(volume.items.all().order_by("position"))
    retentions = sorted({i.retention for i in items}, key=list(numbering.RETENTION_YEARS).index)
    return Catalogue(
        fonds=volume.org_unit.code,
        fonds_name=volume.org_unit.name,
        year=str(volume.year),
        retention="、".join(numbering.RETENTION_LABELS[r] for r in retentions),
        org_code=volume.org_code,
        volume_code=volume.code,
        volume_title=volume.title,
        rows=tuple(
            CatalogueRow(
                number=i.position,
                code=i.code,
                document_number=i.document_number,
                responsible=i.responsible,
                title=i.title,
                date=ymd(i.date),
                secrecy=i.secrecy,
                pages=i.pages,
                remarks="；".join(
                    x for x in (i.remarks, "纸质" if i.carrier == "paper" else "", "已销毁" if i.destroyed else "") if x
                ),
            )
            for i in items
        ),
        backup=backup_sheet(volume),
        generated_at=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )


def personnel_items(volume: Volume) -> list[tuple[ArchiveItem, str]]:
    """Items of a personal volume that go into the cadre's 干部人事档案, with their category."""
    rows = []
    for item in volume.items.all().order_by("position"):
        category = PERSONNEL_CATEGORIES.get(item.item_type) or (
            PERSONNEL_CATEGORIES.get(item.item_id) if item.item_type == ItemType.MATERIAL else None
        )
        if category:
            rows.append((item, category))
    return rows


def transfer_list(volume: Volume) -> TransferList:
    assert volume.kind == VolumeKind.PERSONAL and volume.nomination is not None
    transfer = PersonnelTransfer.objects.filter(volume=volume).select_related("handed_by").first()
    nomination = volume.nomination
    return TransferList(
        fonds_name=volume.org_unit.name,
        cadre_name=nomination.cadre.name,
        nomination_number=nomination.number,
        position=str(nomination.position),
        rows=tuple(
            TransferRow(
                number=n,
                category=category,
                title=item.title,
                date=ymd(item.date),
                pages=item.pages,
                code=item.code,
                remarks="纸质原件" if item.carrier == "paper" else "电子件（打印件附后）",
            )
            for n, (item, category) in enumerate(personnel_items(volume), start=1)
        ),
        handed_by=person(transfer.handed_by) if transfer else "",
        received_by=transfer.received_by if transfer else "",
        handed_on=ymd(transfer.handed_at) if transfer else "",
        signature=_signature(volume.org_unit.code, transfer.event_seq) if transfer else "",
        generated_at=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )


def volumes_for_unit(unit: OrgUnit) -> QuerySet[Volume]:
    return Volume.objects.filter(org_unit=unit).select_related("batch", "nomination__cadre").order_by("-built_at")


def expired_items(unit: OrgUnit, today: dt.date | None = None) -> list[ArchiveItem]:
    """到期鉴定清单: archived items whose retention period has run out and that are not yet destroyed."""
    year = (today or timezone.localdate()).year
    items = ArchiveItem.objects.filter(
        volume__org_unit=unit, volume__status=VolumeStatus.ARCHIVED, destroyed=False
    ).exclude(retention="Y")
    return [
        i
        for i in items.select_related("volume").order_by("retention", "number")
        if (end := numbering.expiry_year(i.year, i.retention)) is not None and end < year
    ]


def disposition_list(disposition: Disposition) -> DispositionList:
    fonds = disposition.org_unit.code
    approve = Event.objects.filter(
        action="archive.disposition_approve", subject_type="disposition", subject_id=str(disposition.pk)
    ).first()
    execute = Event.objects.filter(
        action="archive.disposition_execute", subject_type="disposition", subject_id=str(disposition.pk)
    ).first()
    return DispositionList(
        fonds_name=disposition.org_unit.name,
        title=disposition.title,
        reason=disposition.reason,
        rows=tuple(
            DispositionRow(
                number=n,
                code=i.code,
                title=i.title,
                date=ymd(i.date),
                retention=numbering.RETENTION_LABELS[i.retention],
                expired_on=f"{numbering.expiry_year(i.year, i.retention)}1231",
                remarks="已销毁" if i.destroyed else "",
            )
            for n, i in enumerate(disposition.items.all().order_by("code"), start=1)
        ),
        proposed_by=person(disposition.proposed_by),
        approved_by=person(disposition.decided_by) if approve else "",
        approval_signature=_signature(fonds, approve.seq) if approve else "",
        executed_by=person(disposition.executed_by),
        execution_signature=_signature(fonds, execute.seq) if execute else "",
        generated_at=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )
