"""验收 — every gap that keeps a volume from being archived, each named so a clerk can fix it.

Gaps: the process not finished; a required item missing; a record not signed by every signer role at its
final revision; a waiver without its signed approval; a file missing or no longer matching its digest;
纪实 changed after the volume was built; 件号 sequences with holes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max

from jishi.core import storage
from jishi.core.roles import ROLE_LABELS, Role
from jishi.ledger.models import Event
from jishi.selection import transitions
from jishi.selection.models import RecordStatus, StepRecord
from jishi.selection.selectors import batch_state, nomination_finished

from . import numbering
from .assemble import Assembler, subjects_q
from .models import ArchiveItem, Carrier, NumberSequence, Volume, VolumeKind

# Acts after which a built volume no longer shows the record as it is.
CONTENT_ACTIONS = (
    "step.start",
    "step.save",
    "step.complete",
    "step.waive",
    "step.correct",
    "step.confirm",
    "material.register",
    "notebook.add",
    "tally.save",
    "nomination.drop",
)


@dataclass(frozen=True)
class Gap:
    kind: str  # unfinished | missing | unsigned | waiver | file | stale | numbering
    where: str
    message: str

    @property
    def label(self) -> str:
        return GAP_LABELS.get(self.kind, self.kind)


GAP_LABELS = {
    "unfinished": "流程未完成",
    "missing": "缺少必备文件",
    "unsigned": "未签字确认",
    "waiver": "免除未经批准",
    "file": "文件缺失或被改动",
    "stale": "组卷后纪实有变化",
    "numbering": "件号不连续",
}


def _unfinished(volume: Volume) -> list[Gap]:
    if volume.kind == VolumeKind.PERSONAL:
        assert volume.nomination is not None
        if not nomination_finished(volume.nomination):
            return [Gap("unfinished", volume.nomination.cadre.name, "该人选仍有步骤未办结，不能归档。")]
        return []
    definition = volume.batch.procedure.definition
    if not transitions.is_finished(definition, batch_state(volume.batch)):
        return [Gap("unfinished", volume.batch.number, "本批次仍有步骤未办结，不能归档。")]
    return []


def _signatures(volume: Volume, records: list[StepRecord]) -> list[Gap]:
    definition = volume.batch.procedure.definition
    gaps: list[Gap] = []
    for record in records:
        step = definition.step(record.step_id)
        where = f"{step.id} {step.name}" + (f"（{record.nomination.cadre.name}）" if record.nomination else "")
        if record.status == RecordStatus.WAIVED:
            approved = Event.objects.filter(
                action="step.waive", subject_type="steprecord", subject_id=str(record.pk), signatures__isnull=False
            ).exists()
            if not approved or not record.waiver_reason:
                gaps.append(Gap("waiver", where, "免除该步骤没有经签名批准的记录（理由、依据和批准人签名）。"))
            continue
        if record.status != RecordStatus.COMPLETED:
            continue
        confirmed = set(record.confirmations.filter(revision=record.revision).values_list("role", flat=True))
        missing = [r for r in step.signer_roles if r not in confirmed]
        if missing:
            names = "、".join(ROLE_LABELS[Role(r)] for r in missing)
            gaps.append(Gap("unsigned", where, f"最终内容缺少责任人签字确认：{names}。"))
    return gaps


def _files(items: list[ArchiveItem]) -> list[Gap]:
    gaps = []
    for item in items:
        if item.carrier == Carrier.ELECTRONIC:
            problem = storage.file_problem(item.sha256)
            if problem:
                gaps.append(Gap("file", item.title, problem))
    return gaps


def _stale(volume: Volume) -> list[Gap]:
    later = (
        Event.objects.filter(subjects_q(volume.batch, volume.nomination, None), action__in=CONTENT_ACTIONS)
        .filter(recorded_at__gt=volume.built_at)
        .exists()
    )
    if later:
        return [Gap("stale", volume.code, "组卷后纪实内容又有变化，请重新组卷后再整理。")]
    return []


def _numbering(volume: Volume, items: list[ArchiveItem]) -> list[Gap]:
    gaps: list[Gap] = []
    groups = {(i.fonds, i.year, i.retention, i.org_code) for i in items}
    for fonds, year, retention, org in sorted(groups):
        numbers = [
            n
            for n in ArchiveItem.objects.filter(
                fonds=fonds, year=year, retention=retention, org_code=org, number__isnull=False
            ).values_list("number", flat=True)
            if n is not None
        ]
        missing, duplicated = numbering.gaps(numbers)
        seq = NumberSequence.objects.filter(fonds=fonds, year=year, retention=retention, org_code=org).first()
        top = max(numbers, default=0)
        where = f"{fonds}·{year}-{retention}-{org}"
        if missing:
            gaps.append(Gap("numbering", where, f"已用件号有空号：{', '.join(map(str, missing[:20]))}。"))
        if duplicated:
            gaps.append(Gap("numbering", where, f"件号重复：{', '.join(map(str, duplicated[:20]))}。"))
        if seq is not None and seq.last != top:
            gaps.append(Gap("numbering", where, f"件号计数器（{seq.last}）与已用最大件号（{top}）不一致。"))
    if volume.is_archived:
        mine = [i.number for i in items if i.number is not None]
        for retention in {i.retention for i in items}:
            own = sorted(i.number for i in items if i.retention == retention and i.number is not None)
            if own and own != list(range(own[0], own[0] + len(own))):
                gaps.append(Gap("numbering", volume.code, f"卷内 {retention} 件号不连续。"))
        if len(mine) != len(items):
            gaps.append(Gap("numbering", volume.code, "有文件没有件号。"))
    return gaps


def volume_gaps(volume: Volume) -> list[Gap]:
    """Everything that blocks archiving ([] = the volume may be organized and accepted)."""
    items = list(volume.items.all())
    records = [
        r
        for r in StepRecord.objects.filter(pk__in=[i.source_id for i in items if i.source_type == "steprecord"])
        .select_related("nomination__cadre")
        .order_by("id")
        if not StepRecord.objects.filter(corrects=r).exists()
    ]
    present = {i.item_id for i in items if i.item_id}
    required = Assembler(volume.batch).required(volume.nomination if volume.kind == VolumeKind.PERSONAL else None)
    definition = volume.batch.procedure.definition
    names = {item.id: item.name for item in definition.items()}
    missing = [
        Gap("missing", f"{i} {names.get(i, '')}", "必备的纪实文件未归入本卷。") for i in required if i not in present
    ]
    gaps = _unfinished(volume) + missing + _signatures(volume, records) + _files(items)
    if not volume.is_archived:
        gaps += _stale(volume)
    return gaps + _numbering(volume, items)


def last_number(fonds: str, year: int, retention: str, org: str) -> int:
    return (
        ArchiveItem.objects.filter(fonds=fonds, year=year, retention=retention, org_code=org).aggregate(
            m=Max("number")
        )["m"]
        or 0
    )
