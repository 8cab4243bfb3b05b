"""API: adjustment batches (调整批次) — list, create, show with the flow map, what may start next — and their
nominations (人选). The same services and permission checks as the batch pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit
from jishi.api.auth import actor
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS
from jishi.cadres.models import Cadre, Position
from jishi.core.exceptions import ApplicationError
from jishi.selection import selectors, services, transitions
from jishi.selection.models import Batch, Nomination

from .steps_schemas import MAX_ID, CellState, NominationOut

router = Router(tags=["batches 调整批次"])


class PositionOut(Schema):
    id: int
    name: str


class SummaryOut(Schema):
    stage: str = Field(..., description="当前阶段（全部完成时为“已完成”）")
    finished: bool
    active: int = Field(..., description="进行中的人选数")
    total: int = Field(..., description="人选总数（含已退出）")


class BatchOut(Schema):
    id: int
    number: str = Field(..., description="批次编号")
    title: str
    kind: Literal["routine", "term", "competitive"]
    reason: str
    unit: str = Field(..., description="组织部门（全宗）代码")
    procedure_code: str
    procedure_version: str
    positions: list[PositionOut]
    created_by: str
    created_at: dt.datetime
    summary: SummaryOut

    @staticmethod
    def resolve_unit(obj: Batch) -> str:
        return obj.org_unit.code

    @staticmethod
    def resolve_procedure_code(obj: Batch) -> str:
        return obj.procedure.code

    @staticmethod
    def resolve_procedure_version(obj: Batch) -> str:
        return obj.procedure.version

    @staticmethod
    def resolve_positions(obj: Batch) -> list[dict[str, Any]]:
        return [{"id": p.pk, "name": str(p)} for p in sorted(obj.positions.all(), key=lambda p: p.pk)]

    @staticmethod
    def resolve_created_by(obj: Batch) -> str:
        return obj.created_by.username

    @staticmethod
    def resolve_summary(obj: Batch) -> dict[str, Any]:
        return selectors.batch_summary(obj)


def _flow(batch: Batch) -> list[dict[str, Any]]:
    _, rows = selectors.flow_map(batch)
    return [
        {
            "nomination_id": row.nomination.pk if row.nomination else None,
            "label": row.label,
            "steps": {
                cell.step_id: {"state": cell.state, "record_id": cell.record_id}
                for stage in row.cells
                for cell in stage
                if cell.state != "na"
            },
        }
        for row in rows
    ]


class CellOut(Schema):
    state: CellState
    record_id: int | None


class FlowRowOut(Schema):
    nomination_id: int | None = Field(..., description="null：批次事项这一行")
    label: str
    steps: dict[str, CellOut] = Field(..., description="步骤编号 → 状态与纪实记录；不适用于本行的步骤不列出")


class BatchDetail(BatchOut):
    flow: list[FlowRowOut]

    @staticmethod
    def resolve_flow(obj: Batch) -> list[dict[str, Any]]:
        return _flow(obj)


PositionId = Annotated[int, Field(ge=1, le=MAX_ID)]


class BatchIn(Schema):
    unit: str = Field(..., min_length=1, max_length=20, description="组织部门（全宗）代码，如 J001")
    title: str = Field(..., min_length=1, max_length=200)
    kind: Literal["routine", "term", "competitive"] = "routine"
    reason: str = Field("", max_length=5000)
    position_ids: list[PositionId] = Field(..., min_length=1, max_length=100, description="拟任职位")


class AvailableStepOut(Schema):
    step_id: str
    step_name: str
    nomination_id: int | None
    can_work: bool = Field(..., description="调用者是否可以开始办理")


class NominationIn(Schema):
    cadre_id: int = Field(..., ge=1, le=MAX_ID)
    position_id: int = Field(..., ge=1, le=MAX_ID)


@router.get("", response={200: list[BatchOut], **ERRORS}, summary="可见的调整批次")
@paginate(Paged)
def batch_list(
    request: HttpRequest,
    unit: str | None = Query(None, max_length=20, description="组织部门代码，如 J001"),
    finished: bool | None = Query(None, description="true 只看已完成的批次，false 只看未完成的"),
    q: str | None = Query(None, max_length=100, description="按批次编号或名称查找"),
) -> Any:
    batches = selectors.with_summary(selectors.batches_for_user(actor(request))).prefetch_related("positions")
    if unit:
        batches = batches.filter(org_unit__code=unit)
    if q and q.strip():
        batches = batches.filter(Q(number__icontains=q.strip()) | Q(title__icontains=q.strip()))
    if finished is None:
        return batches
    return batches.filter(finished_at__isnull=not finished)


@router.post("", response={201: BatchOut, **ERRORS}, summary="新建调整批次")
def batch_create(request: HttpRequest, body: BatchIn) -> Status[Batch]:
    user = actor(request)
    org_unit = OrgUnit.objects.filter(code=body.unit).first()
    if org_unit is None:
        raise ApplicationError(f"没有代码为“{body.unit}”的组织部门。", code="unknown_unit")
    # Like the page: the department is one the caller acts in, and its positions are the only choices.
    perms.require(perms.can_create_batch(user, org_unit), "只有本部门的经办人或干部科长可以新建调整批次。")
    wanted = set(body.position_ids)
    positions = list(Position.objects.filter(pk__in=wanted, org_unit=org_unit).order_by("id"))
    if len(positions) != len(wanted):
        missing = sorted(wanted - {p.pk for p in positions})
        raise ApplicationError("拟任职位不存在或不归本部门管理。", code="unknown_position", extra={"ids": missing})
    batch = services.batch_create(
        actor=user, org_unit=org_unit, title=body.title, kind=body.kind, reason=body.reason, positions=positions
    )
    return Status(201, batch)


@router.get("/{batch_id}", response={200: BatchDetail, **ERRORS}, summary="调整批次详情与流程图状态")
def batch_show(request: HttpRequest, batch_id: int) -> Batch:
    return perms.get_batch_for_user(actor(request), batch_id)


@router.get(
    "/{batch_id}/available-steps",
    response={200: list[AvailableStepOut], **ERRORS},
    summary="现在可以开始办理的步骤",
)
@paginate(Paged)
def batch_available_steps(request: HttpRequest, batch_id: int) -> Any:
    user = actor(request)
    batch = perms.get_batch_for_user(user, batch_id)
    definition = batch.procedure.definition
    result = []
    for step_id, nomination_id in transitions.available_steps(definition, selectors.batch_state(batch)):
        step = definition.step(step_id)
        result.append(
            {
                "step_id": step_id,
                "step_name": step.name,
                "nomination_id": nomination_id,
                "can_work": perms.can_work_on_step(user, batch, step.responsible_roles),
            }
        )
    return result


@router.get("/{batch_id}/nominations", response={200: list[NominationOut], **ERRORS}, summary="批次的人选")
@paginate(Paged)
def nomination_list(request: HttpRequest, batch_id: int) -> Any:
    batch = perms.get_batch_for_user(actor(request), batch_id)
    return batch.nominations.select_related("cadre", "position", "added_by", "dropped_by").order_by("id")


@router.post("/{batch_id}/nominations", response={201: NominationOut, **ERRORS}, summary="提出人选（一人一表）")
def nomination_add(request: HttpRequest, batch_id: int, body: NominationIn) -> Status[Nomination]:
    user = actor(request)
    batch = perms.get_batch_for_user(user, batch_id)
    # The page offers the form to managers only, and only the department's own cadres and the batch's positions.
    perms.require(perms.can_manage_batch(user, batch), "只有本部门的经办人或干部科长可以提出人选。")
    cadre = Cadre.objects.filter(pk=body.cadre_id, org_unit=batch.org_unit).first()
    if cadre is None:
        raise ApplicationError("该干部不存在或不在本部门的干部管理范围内。", code="foreign_cadre")
    position = batch.positions.filter(pk=body.position_id).first()
    if position is None:
        raise ApplicationError("该职位不是本批次的拟任职位。", code="foreign_position")
    nomination = services.nomination_add(actor=user, batch=batch, cadre=cadre, position=position)
    return Status(201, nomination)
