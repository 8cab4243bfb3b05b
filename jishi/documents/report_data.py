"""The 《领导干部选拔任用工作全程纪实报告表》 (一人一表) as plain data, read from the records.

One ``ReportForm`` per nomination: the person's header and, in procedure order, every step — the batch's
steps and the person's own — with its records (a corrected record stays, marked as superseded), dates,
what was recorded, who completed and who signed, the materials with their sha256 prefix, notebook
entries, waivers and corrections, and the signed ledger checkpoint that covers the record's last event.
The PDF and the printable HTML page both render this, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.roles import ROLE_LABELS, Role
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.procedures.schema import Scope, Step
from jishi.selection import transitions
from jishi.selection.models import Nomination, RecordStatus, StepRecord
from jishi.selection.selectors import batch_state

APPROVER_LABEL = "审批人"
STATE_LABELS = {
    transitions.Cell.DONE: "已完成",
    transitions.Cell.WAIVED: "已免除",
    transitions.Cell.IN_PROGRESS: "办理中",
    transitions.Cell.AVAILABLE: "未开始",
    transitions.Cell.LOCKED: "未开始",
    transitions.Cell.DROPPED: "已退出",
}


def role_label(role: str) -> str:
    if role == "approver":
        return APPROVER_LABEL
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def person(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "full_name", "") or ""
    return str(full or getattr(user, "username", ""))


@dataclass(frozen=True)
class SignatureLine:
    name: str
    role: str
    at: dt.datetime
    signed: bool  # an Ed25519 signature over the ledger event exists


@dataclass(frozen=True)
class MaterialLine:
    title: str
    document_number: str
    pages: int
    sha256: str  # full digest; renderers show a prefix
    kind: str
    registered_by: str
    registered_at: dt.datetime

    @property
    def sha_prefix(self) -> str:
        return self.sha256[:16]


@dataclass(frozen=True)
class NoteLine:
    occurred_at: dt.datetime
    kind: str
    place: str
    participants: str
    content: str
    recorder: str


@dataclass(frozen=True)
class CheckpointRef:
    fonds: str
    tree_size: int
    root: str
    timestamp: str


@dataclass(frozen=True)
class RecordBlock:
    record_id: int
    status: str
    started_at: dt.datetime
    started_by: str
    completed_at: dt.datetime | None
    completed_by: str
    fields: list[tuple[str, str]]
    tally: list[str]
    signatures: list[SignatureLine]
    materials: list[MaterialLine]
    notes: list[NoteLine]
    waiver_reason: str = ""
    waiver_basis: str = ""
    correction_reason: str = ""
    corrects_id: int | None = None
    superseded: bool = False
    last_event_seq: int = 0
    checkpoint: CheckpointRef | None = None

    @property
    def waived(self) -> bool:
        return bool(self.waiver_reason)

    @property
    def corrected(self) -> bool:
        return self.corrects_id is not None


@dataclass(frozen=True)
class StepBlock:
    id: str
    name: str
    scope: str
    state: str
    records: list[RecordBlock]


@dataclass(frozen=True)
class StageBlock:
    name: str
    steps: list[StepBlock]


@dataclass(frozen=True)
class ReportForm:
    number: str
    batch_number: str
    batch_title: str
    batch_kind: str
    unit: str
    fonds: str
    name: str
    sex: str
    birth: str
    current_post: str
    proposed_post: str
    status: str
    procedure: str
    generated_at: dt.datetime
    stages: list[StageBlock] = field(default_factory=list)
    head_seq: int = 0
    latest_checkpoint: CheckpointRef | None = None

    def records(self) -> list[RecordBlock]:
        return [r for stage in self.stages for step in stage.steps for r in step.records]


HIDDEN_VALUE = "（无权查看）"


def _field_lines(step: Step, record: StepRecord, hidden: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    lines = []
    for f in step.fields:
        value = record.data.get(f.id, "")
        if value in ("", None):
            continue
        if f.id in hidden:
            lines.append((f.label, HIDDEN_VALUE))
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        lines.append((f.label, str(value)))
    return lines


def _tally_lines(record: StepRecord, nomination: Nomination, *, votes_hidden: bool = False) -> list[str]:
    tally = getattr(record, "tally", None)
    if tally is None:
        return []
    lines = [f"{tally.get_kind_display()}：应到 {tally.due} 人，实到 {tally.present} 人，有效票 {tally.valid_ballots}"]
    if votes_hidden:
        return [*lines, f"本人得票：{HIDDEN_VALUE}"]
    for line in tally.lines.all():
        if line.nomination_id != nomination.pk:
            continue
        text = f"本人得票：同意（推荐）{line.approve}，不同意 {line.oppose}，弃权 {line.abstain}"
        if line.defer:
            text += f"，缓议 {line.defer}"
        lines.append(text)
    return lines


def _covering(checkpoints: list[Checkpoint], fonds: str, seq: int) -> CheckpointRef | None:
    for cp in checkpoints:  # ascending tree size
        if cp.tree_size >= seq:
            return CheckpointRef(fonds=fonds, tree_size=cp.tree_size, root=cp.root, timestamp=cp.timestamp)
    return None


def report_form(nomination: Nomination, *, viewer: User | None = None) -> ReportForm:
    """Assemble the report form of one nomination from the current database state.

    With a ``viewer``, the sensitive fields the policy denies them (纪检监察意见, 得票) read “无权查看”;
    without one (the archived original) everything is shown."""
    batch = nomination.batch
    votes_hidden = viewer is not None and not perms.can_view_votes(viewer, batch)

    def hidden(step_id: str) -> frozenset[str]:
        return frozenset(perms.hidden_step_fields(viewer, batch, step_id)) if viewer is not None else frozenset()

    definition = batch.procedure.definition
    fonds = batch.org_unit.code
    state = batch_state(batch)
    records = list(
        batch.records.filter(Q(nomination__isnull=True) | Q(nomination=nomination))
        .select_related("started_by", "completed_by", "tally", "corrects")
        .prefetch_related(
            "confirmations__user", "materials__registered_by", "notebook__recorder", "tally__lines", "corrected_by"
        )
        .order_by("id")
    )
    ids = [str(r.pk) for r in records]
    last_seq: dict[str, int] = {}
    for subject_id, seq in Event.objects.filter(
        chain__fonds=fonds, subject_type="steprecord", subject_id__in=ids
    ).values_list("subject_id", "seq"):
        last_seq[subject_id] = max(seq, last_seq.get(subject_id, 0))
    confirmation_hashes = [c.event_hash for r in records for c in r.confirmations.all()]
    signed_hashes = set(
        Event.objects.filter(hash__in=confirmation_hashes, signatures__isnull=False).values_list("hash", flat=True)
    )
    chain = Chain.objects.filter(fonds=fonds).first()
    checkpoints = list(Checkpoint.objects.filter(chain=chain).order_by("tree_size")) if chain else []

    def block(record: StepRecord, step: Step) -> RecordBlock:
        signatures = [
            SignatureLine(person(c.user), role_label(c.role), c.confirmed_at, c.event_hash in signed_hashes)
            for c in record.confirmations.all()
            if c.revision == record.revision
        ]
        if record.status == RecordStatus.WAIVED or record.corrects_id:
            # The approver's signature is on the waiver/correction event itself.
            signatures.append(
                SignatureLine(
                    person(record.completed_by), APPROVER_LABEL, record.completed_at or record.started_at, True
                )
            )
        seq = last_seq.get(str(record.pk), 0)
        return RecordBlock(
            record_id=record.pk,
            status=record.get_status_display(),
            started_at=record.started_at,
            started_by=person(record.started_by),
            completed_at=record.completed_at,
            completed_by=person(record.completed_by),
            fields=_field_lines(step, record, hidden(record.step_id)),
            tally=_tally_lines(record, nomination, votes_hidden=votes_hidden),
            signatures=signatures,
            materials=[
                MaterialLine(
                    m.title, m.document_number, m.pages, m.sha256, m.kind, person(m.registered_by), m.registered_at
                )
                for m in record.materials.all()
            ],
            notes=[
                NoteLine(n.occurred_at, n.get_kind_display(), n.place, n.participants, n.content, person(n.recorder))
                for n in record.notebook.all()
            ],
            waiver_reason=record.waiver_reason,
            waiver_basis=record.waiver_basis,
            correction_reason=record.correction_reason,
            corrects_id=record.corrects_id,
            superseded=hasattr(record, "corrected_by"),
            last_event_seq=seq,
            checkpoint=_covering(checkpoints, fonds, seq) if seq else None,
        )

    stages = []
    for stage in definition.stages:
        steps = []
        for step in stage.steps:
            nid = nomination.pk if step.scope == Scope.NOMINATION else None
            history = [block(r, step) for r in records if r.step_id == step.id and r.nomination_id == nid]
            cell = transitions.cell_state(definition, state, step.id, nid)
            if not nomination.is_active and cell not in (transitions.Cell.DONE, transitions.Cell.WAIVED):
                cell = transitions.Cell.DROPPED
            steps.append(
                StepBlock(
                    id=step.id,
                    name=step.name,
                    scope="批次" if step.scope == Scope.BATCH else "本人",
                    state=STATE_LABELS.get(cell, str(cell)),
                    records=history,
                )
            )
        stages.append(StageBlock(name=stage.name, steps=steps))
    cadre = nomination.cadre
    latest = checkpoints[-1] if checkpoints else None
    return ReportForm(
        number=nomination.number,
        batch_number=batch.number,
        batch_title=batch.title,
        batch_kind=batch.get_kind_display(),
        unit=batch.org_unit.name,
        fonds=fonds,
        name=cadre.name,
        sex=cadre.sex,
        birth=f"{cadre.birth_month:%Y.%m}",
        current_post=cadre.current_post,
        proposed_post=str(nomination.position),
        status=nomination.get_status_display(),
        procedure=f"{definition.name}（{batch.procedure.code} {batch.procedure.version}）",
        generated_at=timezone.localtime(),
        stages=stages,
        head_seq=chain.seq if chain else 0,
        latest_checkpoint=(
            CheckpointRef(fonds=fonds, tree_size=latest.tree_size, root=latest.root, timestamp=latest.timestamp)
            if latest
            else None
        ),
    )
