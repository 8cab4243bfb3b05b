"""API: the evidence of a step record — materials (纪实材料, with the file's sha256 and its download), notebook
entries (纪实笔记) and vote tallies (计票)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate
from pydantic import field_validator

from jishi.accounts import permissions as perms
from jishi.api.auth import actor
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS
from jishi.selection import services
from jishi.selection.materials import TYPES, content_type
from jishi.selection.models import Material, NotebookEntry
from jishi.selection.step_input import MAX_YEAR, MIN_YEAR, TallyInput, parse_tally

from .steps_schemas import MaterialOut, NotebookOut, TallyOut, tally_out

router = Router(tags=["steps 步骤纪实"])

VOTES = ("approve", "oppose", "abstain", "defer")
BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_TYPES = sorted({mime for _, mime in TYPES.values()} | {"application/octet-stream"})


class MaterialIn(Schema):
    item_id: str = Field(..., min_length=1, max_length=40, description="纪实项目编号，如 I03")
    title: str = Field(..., min_length=1, max_length=200, description="题名")
    document_number: str = Field("", max_length=100, description="文号")
    pages: int = Field(1, ge=1, le=10000)


class NotebookIn(Schema):
    item_id: str = Field("", max_length=40, description="纪实项目编号（可空）")
    kind: Literal["hearing", "proposal", "soliciting", "talk", "meeting", "other"] = Field(
        ..., description="听取意见/研究方案/征求意见/谈话/会议/其他"
    )
    occurred_at: dt.datetime = Field(..., description="发生时间；不带时区时按北京时间")
    place: str = Field(..., min_length=1, max_length=100)
    participants: str = Field(..., min_length=1, max_length=2000)
    content: str = Field(..., min_length=1, max_length=5000)

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: dt.datetime) -> dt.datetime:
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
        return timezone.make_aware(value) if timezone.is_naive(value) else value


class TallyIn(Schema):
    due: int = Field(..., description="应到人数")
    present: int = Field(..., description="实到人数")
    valid_ballots: int = Field(..., description="有效票数")
    lines: dict[int, tuple[int, int, int, int]] = Field(
        ..., max_length=500, description="人选 id → [同意, 不同意, 弃权, 缓议]；须列出本步骤的全部人选"
    )


# Materials -----------------------------------------------------------------------------------------


@router.post(
    "/records/{record_id}/materials",
    response={201: MaterialOut, **ERRORS},
    summary="登记纪实材料（可附电子文件，返回其 SHA-256）",
)
def material_register(
    request: HttpRequest, record_id: int, body: Form[MaterialIn], file: File[UploadedFile | None] = None
) -> Status[Material]:
    record = perms.get_record_for_user(actor(request), record_id)
    material = services.material_register(
        actor=actor(request),
        record=record,
        item_id=body.item_id,
        title=body.title,
        document_number=body.document_number,
        pages=body.pages,
        upload=file,
    )
    return Status(201, material)


@router.get("/records/{record_id}/materials", response={200: list[MaterialOut], **ERRORS}, summary="纪实材料")
@paginate(Paged)
def material_list(request: HttpRequest, record_id: int) -> Any:
    record = perms.get_record_for_user(actor(request), record_id)
    return record.materials.select_related("registered_by").order_by("id")


@router.get(
    "/materials/{material_id}/download",
    response={200: None, **ERRORS},
    summary="下载纪实材料的电子文件（每次下载记入台账）",
    openapi_extra={
        "responses": {200: {"description": "电子文件原件", "content": {mime: BINARY for mime in DOWNLOAD_TYPES}}}
    },
)
def material_download(request: HttpRequest, material_id: int) -> FileResponse:
    material = Material.objects.select_related("record__batch__org_unit").filter(pk=material_id).first()
    if material is None:
        raise Http404
    stream = services.material_download(actor=actor(request), material=material)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=material.original_name or material.title,
        content_type=content_type(material.kind),
    )


# Notebook ------------------------------------------------------------------------------------------


@router.post("/records/{record_id}/notebook", response={201: NotebookOut, **ERRORS}, summary="记录纪实笔记")
def notebook_add(request: HttpRequest, record_id: int, body: NotebookIn) -> Status[NotebookEntry]:
    record = perms.get_record_for_user(actor(request), record_id)
    entry = services.notebook_entry_add(
        actor=actor(request),
        record=record,
        item_id=body.item_id,
        kind=body.kind,
        occurred_at=body.occurred_at,
        place=body.place,
        participants=body.participants,
        content=body.content,
    )
    return Status(201, entry)


@router.get("/records/{record_id}/notebook", response={200: list[NotebookOut], **ERRORS}, summary="纪实笔记")
@paginate(Paged)
def notebook_list(request: HttpRequest, record_id: int) -> Any:
    record = perms.get_record_for_user(actor(request), record_id)
    return record.notebook.select_related("recorder").order_by("occurred_at", "id")


# Tallies -------------------------------------------------------------------------------------------


@router.put(
    "/records/{record_id}/tally",
    response={200: TallyOut, **ERRORS},
    summary="录入计票结果（应到、实到、有效票，逐人同意/不同意/弃权/缓议）",
)
def tally_save(request: HttpRequest, record_id: int, body: TallyIn) -> dict[str, Any] | None:
    record = perms.get_record_for_user(actor(request), record_id)
    candidates = {n.pk: n.cadre.name for n in services.tally_candidates(record)}
    # The same checks as the page's form; a list naming other people goes on to the service, which refuses it.
    raw: dict[str, Any] = {"due": body.due, "present": body.present, "valid_ballots": body.valid_ballots}
    for nomination_id, votes in body.lines.items():
        raw.update({f"{key}_{nomination_id}": value for key, value in zip(VOTES, votes, strict=True)})
    parsed = parse_tally(raw, candidates)
    lines = parsed.lines if set(body.lines) == set(candidates) else dict(body.lines)
    services.tally_save(
        actor=actor(request),
        record=record,
        tally=TallyInput(due=parsed.due, present=parsed.present, valid_ballots=parsed.valid_ballots, lines=lines),
    )
    return tally_out(record, viewer=actor(request))


@router.get("/records/{record_id}/tally", response={200: TallyOut, **ERRORS}, summary="计票结果")
def tally_show(request: HttpRequest, record_id: int) -> dict[str, Any]:
    record = perms.get_record_for_user(actor(request), record_id)
    found = tally_out(record, viewer=actor(request))
    if found is None:  # the step has no vote
        raise Http404
    return found
