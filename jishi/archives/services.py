"""Archive services: build (组卷), organize (整理, signed), accept (检查验收, signed, assigns 件号/档号).

Each is keyword-only, checks permissions itself and appends its ledger event in the same transaction.
PINs are checked before the transaction so that a wrong PIN stays counted when the action is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jishi.accounts import keys
from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.exceptions import ApplicationError
from jishi.ledger import signing
from jishi.ledger.models import Chain, Event
from jishi.ledger.services import checkpoint_create, event_append, signature_attach
from jishi.selection import transitions
from jishi.selection.models import Batch, Nomination, NominationStatus
from jishi.selection.selectors import batch_state, nomination_finished

from . import numbering
from .acceptance import Gap, volume_gaps
from .assemble import Assembler, Planned, subjects_q
from .models import ArchiveItem, ItemType, NumberSequence, Volume, VolumeKind, VolumeStatus

KEY_ACTIONS = ("chain.genesis",)


def _fonds(volume: Volume) -> str:
    return volume.org_unit.code


def _log(volume: Volume, actor: User, action: str, payload: dict[str, Any]) -> Event:
    return event_append(
        fonds=_fonds(volume),
        actor=actor,
        action=action,
        subject_type="volume",
        subject_id=volume.pk,
        payload={"volume": volume.code, "batch": volume.batch.number, **payload},
    )


def _sign(event: Event, actor: User, key_id: str, private: bytes, role: str) -> None:
    message = signing.event_signature_message(fonds=event.chain.fonds, seq=event.seq, event_hash=event.hash, role=role)
    signature_attach(
        event=event, key_id=key_id, signer=actor.username, role=role, signature=signing.sign(private, message)
    )


def _checkpoint(fonds: str) -> None:
    with transaction.atomic():
        chain = Chain.objects.select_for_update().filter(fonds=fonds).first()
        if chain is not None and chain.seq:
            checkpoint_create(chain=chain)


def _volume_code(batch: Batch, nomination: Nomination | None) -> str:
    return f"GR-{nomination.number}" if nomination is not None else f"ZH-{batch.number}"


def _forms(assembler: Assembler, batch: Batch, nomination: Nomination | None) -> list[Planned]:
    from jishi.cadres.approval_io import form_from_cadre
    from jishi.documents import pades
    from jishi.documents.approval_form import render_approval_form
    from jishi.documents.notebook_pdf import render_notebook_pdf
    from jishi.documents.report_data import report_form
    from jishi.documents.report_pdf import render_report_form

    fonds, unit = batch.org_unit.code, batch.org_unit.name
    if nomination is None:
        pdf = pades.sign_pdf(
            render_notebook_pdf(batch), fonds=fonds, reason=f"纪实专用笔记本 {batch.number}", location=unit
        )
        return [assembler.generated(ItemType.NOTEBOOK, f"[{batch.title}纪实专用笔记本]", pdf, "batch", batch.pk)]
    report = pades.sign_pdf(
        render_report_form(report_form(nomination)),
        fonds=fonds,
        reason=f"全程纪实报告表 {nomination.number}",
        location=unit,
    )
    approval = pades.sign_pdf(
        render_approval_form(form_from_cadre(nomination.cadre, nomination)),
        fonds=fonds,
        reason=f"干部任免审批表 {nomination.cadre.name}",
        location=unit,
    )
    name = nomination.cadre.name
    return [
        assembler.generated(
            ItemType.REPORT_FORM, f"[{name}干部选拔任用全程纪实报告表]", report, "nomination", nomination.pk
        ),
        assembler.generated(ItemType.APPROVAL_FORM, f"[{name}干部任免审批表]", approval, "nomination", nomination.pk),
    ]


def _item_summary(item: ArchiveItem | Planned, number: int = 0, code: str = "") -> dict[str, Any]:
    return {
        "number": number,
        "code": code,
        "title": item.title,
        "sha256": item.sha256,
        "pages": item.pages,
        "retention": item.retention,
        "item": item.item_id,
        "type": item.item_type,
    }


def _save_volume(
    *, actor: User, batch: Batch, nomination: Nomination | None, planned: list[Planned], required: list[str]
) -> Volume:
    code = _volume_code(batch, nomination)
    now = timezone.now()
    year = max((p.date.year for p in planned), default=timezone.localdate().year)
    org = settings.ARCHIVE_ORG_CODE
    title = (
        f"{nomination.cadre.name} 干部任用个人文书档案（{batch.number} {nomination.position}）"
        if nomination is not None
        else f"{batch.title} 干部任用综合文书档案（{batch.number}）"
    )
    volume = Volume.objects.select_for_update().filter(code=code).first()
    if volume is not None and volume.status == VolumeStatus.ARCHIVED:
        raise ApplicationError(f"案卷 {code} 已归档，不能重新组卷。", code="archived")
    if volume is None:
        volume = Volume(
            org_unit=batch.org_unit,
            batch=batch,
            nomination=nomination,
            kind=VolumeKind.PERSONAL if nomination else VolumeKind.BATCH,
            code=code,
        )
    else:
        volume.items.all().delete()  # a draft's item list is rebuilt; nothing in it was numbered or filed
    volume.title, volume.year, volume.org_code = title, year, org
    volume.status = VolumeStatus.DRAFT
    volume.builds += 1
    volume.built_by, volume.built_at = actor, now
    volume.organized_by = volume.organized_at = volume.organize_event = None
    volume.save()
    ArchiveItem.objects.bulk_create(
        ArchiveItem(
            volume=volume,
            position=i,
            item_type=p.item_type,
            item_id=p.item_id,
            step_id=p.step_id,
            title=p.title[:300],
            responsible=p.responsible,
            date=p.date,
            document_number=p.document_number,
            pages=p.pages,
            secrecy=settings.ARCHIVE_SECRECY,
            retention=p.retention,
            remarks=p.remarks,
            carrier=p.carrier,
            sha256=p.sha256,
            size=p.size,
            file_format=p.file_format,
            source_type=p.source_type,
            source_id=p.source_id,
            ledger_seq=p.ledger_seq,
            fonds=batch.org_unit.code,
            year=year,
            org_code=org,
        )
        for i, p in enumerate(planned, start=1)
    )
    _log(
        volume,
        actor,
        "archive.volume_build",
        {
            "kind": volume.kind,
            "nomination": nomination.number if nomination else None,
            "build": volume.builds,
            "items": [_item_summary(p) for p in planned],
            "required": required,
        },
    )
    return volume


def volume_build(*, actor: User, batch: Batch) -> list[Volume]:
    """组卷: the personal file of every finished person and, once the batch is finished, the batch file.

    Volumes already archived are left alone; drafts are rebuilt from the current records.
    """
    perms.require(
        perms.can_archive(actor, batch.org_unit, perms.ARCHIVE_BUILD),
        "只有本部门的档案管理员、经办人或干部科长可以组卷。",
    )
    targets: list[Nomination | None] = [
        n
        for n in batch.nominations.filter(status=NominationStatus.ACTIVE).select_related("cadre", "position")
        if nomination_finished(n)
    ]
    if transitions.is_finished(batch.procedure.definition, batch_state(batch)):
        targets.append(None)
    targets = [
        t
        for t in targets
        if not Volume.objects.filter(code=_volume_code(batch, t), status=VolumeStatus.ARCHIVED).exists()
    ]
    if not targets:
        raise ApplicationError("没有可以组卷的人选或批次：流程尚未办结，或已全部归档。", code="nothing_to_build")
    _checkpoint(batch.org_unit.code)  # generated report forms then name a covering checkpoint
    assembler = Assembler(batch)
    built = []
    for nomination in targets:
        forms = _forms(assembler, batch, nomination)
        planned = assembler.personal(nomination, forms) if nomination else assembler.batch_items(forms)
        with transaction.atomic():
            built.append(
                _save_volume(
                    actor=actor,
                    batch=batch,
                    nomination=nomination,
                    planned=planned,
                    required=assembler.required(nomination),
                )
            )
    return built


def _require_no_gaps(volume: Volume) -> list[Gap]:
    gaps = volume_gaps(volume)
    if gaps:
        first = gaps[0]
        raise ApplicationError(
            f"验收未通过，共 {len(gaps)} 处问题，例如：{first.label} — {first.where}：{first.message}",
            code="gaps",
            extra={"gaps": [g.__dict__ for g in gaps]},
        )
    return gaps


def _locked(volume: Volume) -> Volume:
    return (
        Volume.objects.select_for_update(of=("self",))
        .select_related("org_unit", "batch__org_unit", "nomination__cadre")
        .get(pk=volume.pk)
    )


def volume_organize(*, actor: User, volume: Volume, pin: str, notes: str = "") -> Volume:
    """整理: the organizer checks the draft has no gaps and signs the 备考表 as 整理人."""
    perms.require(
        perms.can_archive(actor, volume.org_unit, perms.ARCHIVE_ORGANIZE),
        "只有本部门的档案管理员或经办人可以整理案卷。",
    )
    if volume.status != VolumeStatus.DRAFT:
        raise ApplicationError("只有待整理的案卷可以整理。", code="not_draft")
    notes = (notes or "").strip()
    if len(notes) > 2000 or "\x00" in notes:
        raise ApplicationError("情况说明过长或含有无法保存的字符。", code="invalid_text")
    _require_no_gaps(volume)
    key, private = keys.unseal(user=actor, pin=pin)
    with transaction.atomic():
        volume = _locked(volume)
        if volume.status != VolumeStatus.DRAFT:
            raise ApplicationError("只有待整理的案卷可以整理。", code="not_draft")
        items = list(volume.items.all())
        event = _log(
            volume,
            actor,
            "archive.volume_organize",
            {
                "kind": volume.kind,
                "role": "organizer",
                "notes": notes,
                "key_id": key.key_id,
                "items": [_item_summary(i) for i in items],
            },
        )
        _sign(event, actor, key.key_id, private, "organizer")
        volume.status = VolumeStatus.ORGANIZED
        volume.notes = notes
        volume.organized_by, volume.organized_at, volume.organize_event = actor, event.recorded_at, event.seq
        volume.save()
    return volume


def _take_numbers(volume: Volume, items: list[ArchiveItem]) -> None:
    """Assign each retention group a contiguous block of 件号 from its sequence, under a row lock."""
    fmt = settings.ARCHIVE_CODE_FORMAT
    for retention in sorted({i.retention for i in items}):
        group = [i for i in items if i.retention == retention]
        key: dict[str, Any] = {
            "fonds": _fonds(volume),
            "year": volume.year,
            "retention": retention,
            "org_code": volume.org_code,
        }
        try:
            with transaction.atomic():
                NumberSequence.objects.get_or_create(**key)
        except IntegrityError:
            pass  # created by a concurrent acceptance; the lock below waits for it
        seq = NumberSequence.objects.select_for_update().get(**key)
        for offset, item in enumerate(group, start=1):
            item.number = seq.last + offset
            item.code = numbering.format_code(
                numbering.CodeParts(
                    item.fonds, settings.ARCHIVE_CATEGORY, item.year, retention, item.org_code, item.number
                ),
                fmt,
            )
        seq.last += len(group)
        seq.save(update_fields=["last"])
    ArchiveItem.objects.bulk_update(items, ["number", "code"])


def events_digest(volume: Volume, before_seq: int) -> dict[str, Any]:
    """Count and digest of the ledger events about the volume's subjects before ``before_seq``."""
    subjects = subjects_q(volume.batch, volume.nomination, volume.pk)
    hashes = list(
        Event.objects.filter(subjects, chain__fonds=_fonds(volume), seq__lt=before_seq)
        .exclude(action__in=KEY_ACTIONS)
        .exclude(action__startswith="signing_key.")
        .order_by("seq")
        .values_list("hash", flat=True)
    )
    return {"count": len(hashes), "digest": hashlib.sha256("\n".join(hashes).encode()).hexdigest()}


def volume_subjects(volume: Volume) -> list[str]:
    """The ledger subjects (type:id) of a volume, as listed in its accept event."""
    rows = Event.objects.filter(subjects_q(volume.batch, volume.nomination, volume.pk), chain__fonds=_fonds(volume))
    return sorted({f"{t}:{i}" for t, i in rows.values_list("subject_type", "subject_id")})


def volume_accept(*, actor: User, volume: Volume, pin: str) -> Volume:
    """检查验收: a second person re-checks every gap, the volume takes its 件号 and the checker signs."""
    perms.require(
        perms.can_archive(actor, volume.org_unit, perms.ARCHIVE_CHECK),
        "只有本部门的档案管理员或干部科长可以检查验收案卷。",
    )
    if volume.status != VolumeStatus.ORGANIZED:
        raise ApplicationError("案卷须先由整理人整理签字，再检查验收。", code="not_organized")
    if volume.organized_by_id == actor.pk:
        raise ApplicationError("检查人不能是整理人本人。", code="same_person")
    _require_no_gaps(volume)
    key, private = keys.unseal(user=actor, pin=pin)
    with transaction.atomic():
        # The chain head lock serializes acceptances of one fonds, so 件号 blocks never interleave.
        Chain.objects.select_for_update().get(fonds=_fonds(volume))
        volume = _locked(volume)
        if volume.status != VolumeStatus.ORGANIZED:
            raise ApplicationError("案卷须先由整理人整理签字，再检查验收。", code="not_organized")
        items = list(volume.items.all().order_by("position"))
        _take_numbers(volume, items)
        chain = Chain.objects.get(fonds=_fonds(volume))
        digest = events_digest(volume, chain.seq + 1)
        event = _log(
            volume,
            actor,
            "archive.volume_accept",
            {
                "kind": volume.kind,
                "nomination": volume.nomination.number if volume.nomination else None,
                "role": "checker",
                "key_id": key.key_id,
                "items": [_item_summary(i, i.number or 0, i.code) for i in items],
                "required": Assembler(volume.batch).required(volume.nomination),
                "events": {**digest, "subjects": volume_subjects(volume)},
            },
        )
        _sign(event, actor, key.key_id, private, "checker")
        volume.status = VolumeStatus.ARCHIVED
        volume.checked_by, volume.checked_at, volume.accept_event = actor, event.recorded_at, event.seq
        volume.save()
    return volume


def volume_export(*, actor: User, volumes: list[Volume], out: Path) -> dict[str, Any]:
    """Write archived volumes of one unit as a BagIt package at ``out`` (which must not exist yet).

    The package is written beside ``out`` and renamed into place, so a failure leaves nothing half-written;
    each volume gets an access event naming who exported it and the digest of the package manifest.
    """
    if not volumes:
        raise ApplicationError("没有要导出的案卷。", code="nothing_to_export")
    unit = volumes[0].org_unit
    for volume in volumes:
        perms.require(perms.can_view_archive(actor, volume.org_unit), f"您无权导出案卷 {volume.code}。")
        if volume.org_unit_id != unit.pk:
            raise ApplicationError("一个归档信息包只能包含同一全宗的案卷。", code="mixed_fonds")
        if volume.status != VolumeStatus.ARCHIVED:
            raise ApplicationError(f"案卷 {volume.code} 尚未验收归档，不能导出。", code="not_archived")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ApplicationError(f"导出目录 {out} 已存在且不是空目录。", code="exists")
    from .package import write_package

    _checkpoint(unit.code)  # every event of the package is then covered by a signed checkpoint
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        summary = write_package(work, volumes)
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest = hashlib.sha256((out / "manifest-sha256.txt").read_bytes()).hexdigest()
    with transaction.atomic():
        for volume in volumes:
            _log(
                volume,
                actor,
                "archive.volume_export",
                {"package": out.name, "manifest_sha256": manifest, "volumes": summary["volumes"]},
            )
    return {**summary, "manifest_sha256": manifest, "path": str(out)}
