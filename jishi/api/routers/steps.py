"""API: step records (步骤纪实) — start, save, confirm with the signing PIN, complete, waive, correct.

Each action calls the service the step page calls; a refused out-of-order start (越过程序) comes back as
``out_of_order`` and stays on the ledger as ``step.refused``. Nominations, materials, notebook entries and
vote tallies are in the sub-routers ``steps_nominations`` and ``steps_evidence``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from jishi.accounts import permissions as perms
from jishi.api.auth import actor, require_sign_scope
from jishi.api.schemas import ERRORS
from jishi.selection import services
from jishi.selection.models import Batch, Nomination

from . import steps_evidence, steps_nominations
from .steps_schemas import MAX_ID, ConfirmationOut, RecordOut, confirmation_out, record_out

router = Router(tags=["steps 步骤纪实"])
router.add_router("", steps_nominations.router)
router.add_router("", steps_evidence.router)

FieldValue = str | int | bool | None


class StartIn(Schema):
    nomination_id: int | None = Field(None, ge=1, le=MAX_ID, description="按人选办理的步骤须填；批次级步骤为 null")


class DataIn(Schema):
    data: dict[str, FieldValue] = Field(
        ..., max_length=200, description="步骤字段编号 → 值（日期 2026-11-27，是/否 用 true/false）"
    )


class ConfirmIn(Schema):
    role: str = Field(..., min_length=1, max_length=30, description="签字身份，如 clerk、section_head")
    pin: str = Field(..., min_length=1, max_length=100, description="签名口令")
    seen_revision: int | None = Field(
        None, ge=0, le=MAX_ID, description="调用者核对过的修订号；内容已被改动时拒绝（stale）"
    )


class WaiveIn(Schema):
    nomination_id: int | None = Field(None, ge=1, le=MAX_ID)
    reason: str = Field(..., min_length=1, max_length=2000, description="免除理由")
    legal_basis: str = Field(..., min_length=1, max_length=500, description="免除依据")
    pin: str = Field(..., min_length=1, max_length=100, description="部领导的签名口令")


class CorrectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000, description="更正理由")
    data: dict[str, FieldValue] = Field(..., max_length=200, description="更正后的字段值（未列出的保持原值）")
    pin: str = Field(..., min_length=1, max_length=100, description="批准人（干部科长或部领导）的签名口令")


def _as_text(data: dict[str, FieldValue]) -> dict[str, str]:
    """What a form would have posted: every value as text, booleans as true/false."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else "" if value is None else str(value)
        for key, value in data.items()
    }


def _target(request: HttpRequest, batch_id: int, nomination_id: int | None) -> tuple[Batch, Nomination | None]:
    """The batch, and the nomination when one is named (each checked like the step page checks it)."""
    user = actor(request)
    batch = perms.get_batch_for_user(user, batch_id)
    nomination = perms.get_nomination_for_user(user, nomination_id) if nomination_id is not None else None
    return batch, nomination


@router.post(
    "/batches/{batch_id}/steps/{step_id}/start",
    response={201: RecordOut, **ERRORS},
    summary="开始办理步骤（前置步骤未完成时拒绝并记入台账）",
)
def step_start(request: HttpRequest, batch_id: int, step_id: str, body: StartIn) -> Status[dict[str, Any]]:
    batch, nomination = _target(request, batch_id, body.nomination_id)
    record = services.step_start(actor=actor(request), batch=batch, step_id=step_id, nomination=nomination)
    return Status(201, record_out(record, viewer=actor(request)))


@router.post(
    "/batches/{batch_id}/steps/{step_id}/waive",
    response={200: RecordOut, **ERRORS},
    summary="免除步骤（部领导签名批准，需 sign 权限范围）",
)
def step_waive(request: HttpRequest, batch_id: int, step_id: str, body: WaiveIn) -> dict[str, Any]:
    require_sign_scope(request)
    batch, nomination = _target(request, batch_id, body.nomination_id)
    record = services.step_waive(
        actor=actor(request),
        batch=batch,
        step_id=step_id,
        nomination=nomination,
        reason=body.reason,
        legal_basis=body.legal_basis,
        pin=body.pin,
    )
    return record_out(record, viewer=actor(request))


@router.get(
    "/records/{record_id}",
    response={200: RecordOut, **ERRORS},
    summary="步骤纪实：内容、修订号、确认、材料、笔记、计票",
)
def record_show(request: HttpRequest, record_id: int) -> dict[str, Any]:
    return record_out(perms.get_record_for_user(actor(request), record_id), viewer=actor(request))


@router.put("/records/{record_id}/data", response={200: RecordOut, **ERRORS}, summary="保存纪实内容（修订号加一）")
def record_save(request: HttpRequest, record_id: int, body: DataIn) -> dict[str, Any]:
    record = perms.get_record_for_user(actor(request), record_id)
    record = services.step_save(actor=actor(request), record=record, data=_as_text(body.data))
    return record_out(record, viewer=actor(request))


@router.post(
    "/records/{record_id}/confirm",
    response={201: ConfirmationOut, **ERRORS},
    summary="责任人确认签字（签名口令，需 sign 权限范围）",
)
def record_confirm(request: HttpRequest, record_id: int, body: ConfirmIn) -> Status[dict[str, Any]]:
    require_sign_scope(request)
    record = perms.get_record_for_user(actor(request), record_id)
    confirmation = services.step_confirm(
        actor=actor(request), record=record, role=body.role, pin=body.pin, seen_revision=body.seen_revision
    )
    return Status(201, confirmation_out(confirmation))


@router.post("/records/{record_id}/complete", response={200: RecordOut, **ERRORS}, summary="完成步骤")
def record_complete(request: HttpRequest, record_id: int) -> dict[str, Any]:
    record = perms.get_record_for_user(actor(request), record_id)
    return record_out(services.step_complete(actor=actor(request), record=record), viewer=actor(request))


@router.post(
    "/records/{record_id}/correct",
    response={201: RecordOut, **ERRORS},
    summary="更正已办结的纪实（生成新记录，原记录保留；需 sign 权限范围）",
)
def record_correct(request: HttpRequest, record_id: int, body: CorrectIn) -> Status[dict[str, Any]]:
    require_sign_scope(request)
    record = perms.get_record_for_user(actor(request), record_id)
    new = services.step_correct(
        actor=actor(request), record=record, reason=body.reason, data=_as_text(body.data), pin=body.pin
    )
    return Status(201, record_out(new, viewer=actor(request)))
