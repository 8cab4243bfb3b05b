"""Schemas of the selection workflow shared by the batch and step routers, and the functions that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.roles import ROLE_LABELS
from jishi.selection import services
from jishi.selection.models import (
    Confirmation,
    Material,
    Nomination,
    NotebookEntry,
    RecordStatus,
    StepRecord,
    VoteTally,
)

# Largest id a database key can hold (bigint): a bigger number can name nothing, so it is refused up front.
MAX_ID = 2**63 - 1


LABELS = {role.value: label for role, label in ROLE_LABELS.items()}
CellState = Literal["done", "waived", "in_progress", "available", "locked", "dropped"]


def username(user: User | None) -> str | None:
    return user.username if user is not None else None


class NominationOut(Schema):
    id: int
    batch_id: int
    number: str = Field(..., description="纪实表编号")
    cadre_id: int
    cadre_name: str
    position_id: int
    position_name: str
    status: Literal["active", "dropped"]
    added_by: str
    added_at: dt.datetime
    dropped_reason: str
    dropped_at_step: str
    dropped_by: str | None
    dropped_at: dt.datetime | None

    @staticmethod
    def resolve_cadre_name(obj: Nomination) -> str:
        return obj.cadre.name

    @staticmethod
    def resolve_position_name(obj: Nomination) -> str:
        return str(obj.position)

    @staticmethod
    def resolve_added_by(obj: Nomination) -> str:
        return obj.added_by.username

    @staticmethod
    def resolve_dropped_by(obj: Nomination) -> str | None:
        return username(obj.dropped_by)


class ConfirmationOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    revision: int = Field(..., description="确认的修订号；内容再保存后须重新确认")
    confirmed_at: dt.datetime
    event_hash: str = Field(..., description="台账中签名事件的哈希")


class MaterialOut(Schema):
    id: int
    record_id: int
    item_id: str
    title: str
    document_number: str
    pages: int
    sha256: str = Field(..., description="电子文件的 SHA-256（纸质材料为空）")
    size: int
    original_name: str
    kind: str = Field(..., description="按内容识别的文件类型：pdf/ofd/docx/xlsx/jpeg/png，纸质材料为空")
    registered_by: str
    registered_at: dt.datetime

    @staticmethod
    def resolve_registered_by(obj: Material) -> str:
        return obj.registered_by.username


class NotebookOut(Schema):
    id: int
    record_id: int
    item_id: str
    kind: str
    occurred_at: dt.datetime
    place: str
    participants: str
    content: str
    recorder: str
    created_at: dt.datetime

    @staticmethod
    def resolve_recorder(obj: NotebookEntry) -> str:
        return obj.recorder.username


class CandidateOut(Schema):
    nomination_id: int
    number: str
    name: str


class TallyLineOut(Schema):
    nomination_id: int
    approve: int
    oppose: int
    abstain: int
    defer: int


class TallyOut(Schema):
    record_id: int
    kind: str = Field(..., description="recommendation 推荐 / assessment 测评 / decision 表决")
    label: str
    recorded: bool = Field(..., description="是否已录入")
    due: int | None
    present: int | None
    valid_ballots: int | None
    candidates: list[CandidateOut]
    lines: list[TallyLineOut]


class RecordOut(Schema):
    id: int
    batch_id: int
    nomination_id: int | None
    step_id: str
    step_name: str
    status: Literal["in_progress", "completed", "waived"]
    data: dict[str, Any] = Field(..., description="纪实内容（按步骤字段）")
    revision: int
    started_by: str
    started_at: dt.datetime
    completed_by: str | None
    completed_at: dt.datetime | None
    waiver_reason: str
    waiver_basis: str
    corrects_id: int | None = Field(..., description="本记录更正的原记录")
    correction_reason: str
    signer_roles: list[str]
    confirmations: list[ConfirmationOut]
    materials: list[MaterialOut]
    notebook: list[NotebookOut]
    tally: TallyOut | None
    problems: list[str] = Field(..., description="办理中时：尚不能完成的原因")


def confirmation_out(confirmation: Confirmation) -> dict[str, Any]:
    return {
        "id": confirmation.pk,
        "username": confirmation.user.username,
        "full_name": confirmation.user.get_full_name(),
        "role": confirmation.role,
        "role_label": LABELS.get(confirmation.role, confirmation.role),
        "revision": confirmation.revision,
        "confirmed_at": confirmation.confirmed_at,
        "event_hash": confirmation.event_hash,
    }


def tally_out(record: StepRecord, *, viewer: User | None = None) -> dict[str, Any] | None:
    """The vote tally of a step that has one (None for other steps), with the candidates it counts.

    Each candidate's votes (``lines``) are left out for a viewer the policy denies ``field.votes``."""
    step = record.batch.procedure.definition.step(record.step_id)
    if step.tally is None:
        return None
    tally = VoteTally.objects.filter(record=record).first()
    votes_hidden = viewer is not None and not perms.can_view_votes(viewer, record.batch)
    return {
        "record_id": record.pk,
        "kind": step.tally.kind.value,
        "label": step.tally.label,
        "recorded": tally is not None,
        "due": tally.due if tally else None,
        "present": tally.present if tally else None,
        "valid_ballots": tally.valid_ballots if tally else None,
        "candidates": [
            {"nomination_id": n.pk, "number": n.number, "name": n.cadre.name} for n in services.tally_candidates(record)
        ],
        "lines": [
            {
                "nomination_id": line.nomination_id,
                "approve": line.approve,
                "oppose": line.oppose,
                "abstain": line.abstain,
                "defer": line.defer,
            }
            for line in (tally.lines.order_by("nomination_id") if tally and not votes_hidden else [])
        ],
    }


def record_out(record: StepRecord, *, viewer: User | None = None) -> dict[str, Any]:
    """Everything the step page shows about one record: content, signatures, materials, notebook, tally.

    Sensitive fields the policy denies the viewer (纪检监察意见 …) come back as null."""
    record = (
        StepRecord.objects.select_related(
            "batch__org_unit", "batch__procedure", "nomination__cadre", "started_by", "completed_by"
        )
        .prefetch_related("confirmations__user")
        .get(pk=record.pk)
    )
    step = record.batch.procedure.definition.step(record.step_id)
    open_ = record.status == RecordStatus.IN_PROGRESS
    data = dict(record.data)
    if viewer is not None:
        for field_id in perms.hidden_step_fields(viewer, record.batch, record.step_id):
            if field_id in data:
                data[field_id] = None
    return {
        "id": record.pk,
        "batch_id": record.batch_id,
        "nomination_id": record.nomination_id,
        "step_id": record.step_id,
        "step_name": step.name,
        "status": record.status,
        "data": data,
        "revision": record.revision,
        "started_by": record.started_by.username,
        "started_at": record.started_at,
        "completed_by": username(record.completed_by),
        "completed_at": record.completed_at,
        "waiver_reason": record.waiver_reason,
        "waiver_basis": record.waiver_basis,
        "corrects_id": record.corrects_id,
        "correction_reason": record.correction_reason,
        "signer_roles": [str(r) for r in step.signer_roles],
        "confirmations": [confirmation_out(c) for c in record.confirmations.all()],
        "materials": list(record.materials.select_related("registered_by").order_by("id")),
        "notebook": list(record.notebook.select_related("recorder").order_by("occurred_at", "id")),
        "tally": tally_out(record, viewer=viewer),
        "problems": services.completion_problems(record) if open_ else [],
    }
