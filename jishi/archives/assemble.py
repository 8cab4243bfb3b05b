"""What goes into a volume (组卷): the items in procedure order, and the documents generated for it.

Personal file (一人一表): the person's own records and materials, the batch materials the definition files
under ``archive: personal``, the 全程纪实报告表 and the 干部任免审批表. Batch file (一批一档): the batch's
records and materials, the records of people who dropped out, and the 纪实专用笔记本.
Records are filed as canonical JSON — the same content their confirmations signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from pypdf import PdfReader

from jishi.core import storage
from jishi.ledger.hashing import canonical_json
from jishi.ledger.models import Event
from jishi.procedures.schema import ArchiveStream, ItemKind, ProcedureDefinition, Scope
from jishi.selection.models import Batch, Material, Nomination, NominationStatus, RecordStatus, StepRecord

from . import numbering
from .models import ArchiveItem, Carrier, ItemType


@dataclass
class Planned:
    """One 件 before it is saved: where it comes from and how it is described."""

    item_type: str
    title: str
    responsible: str
    date: dt.date
    source_type: str
    source_id: int
    item_id: str = ""
    step_id: str = ""
    document_number: str = ""
    pages: int = 1
    remarks: str = ""
    sha256: str = ""
    size: int = 0
    file_format: str = ""
    ledger_seq: int | None = None
    retention: str = "Y"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def carrier(self) -> str:
        return Carrier.ELECTRONIC if self.sha256 else Carrier.PAPER


def store_bytes(data: bytes) -> str:
    """Put generated content into the material store (content-addressed, fsynced); returns its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    if storage.exists(sha):
        return sha
    root = storage.local_root() or Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".archive-", delete=False) as tmp:
        tmp.write(data)
        tmp.flush()
        os.fsync(tmp.fileno())
    storage.put(sha, Path(tmp.name))
    return sha


def _person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _local_date(value: dt.datetime | None) -> dt.date:
    return timezone.localtime(value).date() if value else timezone.localdate()


def record_document(record: StepRecord, definition: ProcedureDefinition) -> dict[str, Any]:
    """The record as filed: content, people, times, tally, notebook and material digests."""
    step = definition.step(record.step_id)
    tally = getattr(record, "tally", None)
    return {
        "format": "jishi-step-record-v1",
        "fonds": record.batch.org_unit.code,
        "batch": record.batch.number,
        "nomination": record.nomination.number if record.nomination else None,
        "person": record.nomination.cadre.name if record.nomination else None,
        "stage": definition.stage_of(step.id).name,
        "step": step.id,
        "step_name": step.name,
        "status": record.get_status_display(),
        "revision": record.revision,
        "data": record.data,
        "started": {"by": _person(record.started_by), "at": record.started_at.isoformat()},
        "completed": {"by": _person(record.completed_by), "at": record.completed_at.isoformat()}
        if record.completed_at
        else None,
        "waiver": {"reason": record.waiver_reason, "basis": record.waiver_basis} if record.waiver_reason else None,
        "corrects": record.corrects_id,
        "correction_reason": record.correction_reason or None,
        "confirmations": [
            {
                "by": _person(c.user),
                "role": c.role,
                "revision": c.revision,
                "at": c.confirmed_at.isoformat(),
                "event_hash": c.event_hash,
            }
            for c in record.confirmations.select_related("user").order_by("confirmed_at", "id")
        ],
        "notebook": [
            {
                "item": n.item_id,
                "kind": n.get_kind_display(),
                "at": n.occurred_at.isoformat(),
                "place": n.place,
                "participants": n.participants,
                "content": n.content,
                "recorder": _person(n.recorder),
            }
            for n in record.notebook.select_related("recorder").order_by("occurred_at", "id")
        ],
        "tally": {
            "kind": tally.kind,
            "due": tally.due,
            "present": tally.present,
            "valid": tally.valid_ballots,
            "lines": [
                {
                    "nomination": line.nomination.number,
                    "approve": line.approve,
                    "oppose": line.oppose,
                    "abstain": line.abstain,
                    "defer": line.defer,
                }
                for line in tally.lines.select_related("nomination").order_by("id")
            ],
        }
        if tally is not None
        else None,
        "materials": [
            {"item": m.item_id, "title": m.title, "sha256": m.sha256 or None, "pages": m.pages}
            for m in record.materials.order_by("id")
        ],
    }


def _dropped_persons_record(record: StepRecord, scope: Scope) -> bool:
    """A record of a person dropped from the batch: no personal file is built, so the batch file keeps it."""
    return record.nomination is not None and scope == Scope.NOMINATION and not record.nomination.is_active


def _register_seqs(record_ids: list[int]) -> dict[int, int]:
    """Material id → seq of its material.register event (logged with the step record as subject)."""
    rows = Event.objects.filter(
        action="material.register", subject_type="steprecord", subject_id__in=[str(i) for i in record_ids]
    ).values_list("payload", "seq")
    seqs: dict[int, int] = {}
    for payload, seq in rows:
        material = json.loads(payload).get("material")
        if material:
            seqs[int(material)] = seq
    return seqs


class Assembler:
    """Plans the items of the volumes of one batch."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.definition = batch.procedure.definition
        self.unit = batch.org_unit.name
        self.overrides: dict[str, str] = dict(getattr(settings, "ARCHIVE_RETENTION", {}) or {})
        self.records = list(
            batch.records.select_related("nomination__cadre", "started_by", "completed_by", "batch__org_unit")
            .prefetch_related("materials")
            .order_by("id")
        )
        order = {step.id: i for i, step in enumerate(self.definition.steps())}
        self.records.sort(key=lambda r: (order.get(r.step_id, 999), r.id))
        self.item_stream = {item.id: item.archive for item in self.definition.items()}
        self.seqs = _register_seqs([r.pk for r in self.records])

    def _retention(self, item_type: str, item_id: str) -> str:
        return numbering.default_retention(item_type, item_id, self.overrides)

    def _record_item(self, record: StepRecord) -> Planned:
        step = self.definition.step(record.step_id)
        own = [i for i in self.definition.items_of(step.id) if i.kind != ItemKind.MATERIAL]
        content = canonical_json(record_document(record, self.definition)).encode("utf-8")
        remarks = []
        if record.status == RecordStatus.WAIVED:
            remarks.append("免除")
        if record.corrects_id:
            remarks.append("更正记录")
        if StepRecord.objects.filter(corrects=record).exists():
            remarks.append("已被更正")
        who = f"（{record.nomination.cadre.name}）" if record.nomination else ""
        return Planned(
            item_type=ItemType.RECORD,
            title=f"[{step.name}纪实记录{who}]",
            responsible=self.unit,
            date=_local_date(record.completed_at or record.started_at),
            source_type="steprecord",
            source_id=record.pk,
            item_id=own[0].id if own else "",
            step_id=step.id,
            remarks="；".join(remarks),
            sha256=store_bytes(content),
            size=len(content),
            file_format="JSON",
            retention=self._retention(ItemType.RECORD, own[0].id if own else ""),
        )

    def _material_items(self, record: StepRecord) -> list[Planned]:
        items = []
        for m in record.materials.all():
            items.append(
                Planned(
                    item_type=ItemType.MATERIAL,
                    title=m.title,
                    responsible=self.unit,
                    date=_local_date(m.registered_at),
                    source_type="material",
                    source_id=m.pk,
                    item_id=m.item_id,
                    step_id=record.step_id,
                    document_number=m.document_number,
                    pages=m.pages,
                    sha256=m.sha256,
                    size=m.size,
                    file_format=m.kind.upper() if m.sha256 else "",
                    ledger_seq=self.seqs.get(m.pk),
                    retention=self._retention(ItemType.MATERIAL, m.item_id),
                )
            )
        return items

    def personal(self, nomination: Nomination, forms: list[Planned]) -> list[Planned]:
        planned: list[Planned] = []
        for record in self.records:
            if record.nomination_id == nomination.pk:
                planned.append(self._record_item(record))
                planned.extend(self._material_items(record))
            elif record.nomination_id is None:
                planned.extend(
                    p for p in self._material_items(record) if self.item_stream.get(p.item_id) == ArchiveStream.PERSONAL
                )
        return planned + forms

    def batch_items(self, forms: list[Planned]) -> list[Planned]:
        dropped = set(self.batch.nominations.filter(status=NominationStatus.DROPPED).values_list("pk", flat=True))
        planned: list[Planned] = []
        for record in self.records:
            if record.nomination_id is None or record.nomination_id in dropped:
                planned.append(self._record_item(record))
                planned.extend(self._material_items(record))
        return planned + forms

    def required(self, nomination: Nomination | None) -> list[str]:
        """Documentation items the procedure requires for the records the volume covers (not waived)."""
        wanted: list[str] = []
        for record in self.records:
            step = self.definition.step(record.step_id)
            mine = record.nomination_id == (nomination.pk if nomination else None) or (
                nomination is None and _dropped_persons_record(record, step.scope)
            )
            if not mine or record.status == RecordStatus.WAIVED or StepRecord.objects.filter(corrects=record).exists():
                continue
            for item in self.definition.items_of(step.id):
                if item.required and item.id not in wanted:
                    wanted.append(item.id)
        return wanted

    def generated(self, item_type: str, title: str, pdf: bytes, source_type: str, source_id: int) -> Planned:
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        return Planned(
            item_type=item_type,
            title=title,
            responsible=self.unit,
            date=timezone.localdate(),
            source_type=source_type,
            source_id=source_id,
            pages=pages,
            sha256=store_bytes(pdf),
            size=len(pdf),
            file_format="PDF",
            retention=self._retention(item_type, ""),
        )


def subjects_q(batch: Batch, nomination: Nomination | None, volume_id: int | None) -> Q:
    """Ledger events about what a volume holds: its batch or person, records, materials and the volume."""
    records = StepRecord.objects.filter(batch=batch)
    if nomination is not None:
        records = records.filter(nomination=nomination)
    else:
        dropped = batch.nominations.filter(status=NominationStatus.DROPPED)
        records = records.filter(Q(nomination__isnull=True) | Q(nomination__in=dropped))
    record_ids = [str(pk) for pk in records.values_list("pk", flat=True)]
    material_ids = [str(pk) for pk in records.values_list("materials__pk", flat=True) if pk]
    q = Q(subject_type="steprecord", subject_id__in=record_ids) | Q(
        subject_type="material", subject_id__in=material_ids
    )
    if nomination is not None:
        q |= Q(subject_type="nomination", subject_id=str(nomination.pk))
    else:
        q |= Q(subject_type="batch", subject_id=str(batch.pk))
    if volume_id is not None:
        q |= Q(subject_type="volume", subject_id=str(volume_id))
        # Materials filed from other records (batch materials in a personal file) bring their record along.
        material_ids_in_volume = ArchiveItem.objects.filter(volume_id=volume_id, source_type="material").values(
            "source_id"
        )
        other_records = (
            Material.objects.filter(pk__in=material_ids_in_volume).values_list("record_id", flat=True).distinct()
        )
        q |= Q(subject_type="steprecord", subject_id__in=[str(pk) for pk in other_records])
    return q
