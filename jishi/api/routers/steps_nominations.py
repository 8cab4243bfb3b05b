"""API: one nomination (人选) with its whole-process timeline, and withdrawing it (退出)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from jishi.accounts import permissions as perms
from jishi.api.auth import actor
from jishi.api.schemas import ERRORS
from jishi.selection import selectors, services
from jishi.selection.models import Nomination

from .steps_schemas import CellState, NominationOut

router = Router(tags=["steps 步骤纪实"])


class RecordBrief(Schema):
    id: int
    status: str
    revision: int
    started_at: dt.datetime
    completed_at: dt.datetime | None
    corrects_id: int | None


class TimelineEntry(Schema):
    stage: str
    step_id: str
    step_name: str
    scope: str = Field(..., description="batch 批次级 / nomination 按人选")
    state: CellState
    records: list[RecordBrief] = Field(..., description="该步骤的纪实记录（含被更正的原记录）")


def _timeline(nomination: Nomination) -> list[dict[str, Any]]:
    return [
        {
            "stage": entry["stage"],
            "step_id": entry["step"].id,
            "step_name": entry["step"].name,
            "scope": entry["step"].scope.value,
            "state": entry["state"],
            "records": [
                {
                    "id": r.pk,
                    "status": r.status,
                    "revision": r.revision,
                    "started_at": r.started_at,
                    "completed_at": r.completed_at,
                    "corrects_id": r.corrects_id,
                }
                for r in entry["records"]
            ],
        }
        for entry in selectors.timeline(nomination)
    ]


class NominationDetail(NominationOut):
    timeline: list[TimelineEntry]

    @staticmethod
    def resolve_timeline(obj: Nomination) -> list[dict[str, Any]]:
        return _timeline(obj)


class DropIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000, description="退出原因")


@router.get(
    "/nominations/{nomination_id}",
    response={200: NominationDetail, **ERRORS},
    summary="人选详情与全程纪实时间线",
)
def nomination_show(request: HttpRequest, nomination_id: int) -> Nomination:
    return perms.get_nomination_for_user(actor(request), nomination_id)


@router.post(
    "/nominations/{nomination_id}/drop",
    response={200: NominationOut, **ERRORS},
    summary="人选退出本批次（记录保留）",
)
def nomination_drop(request: HttpRequest, nomination_id: int, body: DropIn) -> Nomination:
    nomination = perms.get_nomination_for_user(actor(request), nomination_id)
    return services.nomination_drop(actor=actor(request), nomination=nomination, reason=body.reason)
