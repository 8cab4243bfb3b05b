"""API: archive volumes (案卷) — list, show with items and gaps, 组卷, signed 整理 and 检查验收, as on the 档案管理
pages. The downloads (归档文件目录, BagIt packages as ZIP) are in ``archives_files``."""

# No ``from __future__ import annotations``: @paginate re-reads the annotations outside this module.
import datetime as dt
from typing import Any, Literal

from django.db.models import Count
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.api.auth import actor, require_sign_scope
from jishi.api.pagination import Paged
from jishi.api.routers import archives_files
from jishi.api.routers.ledger import Mapped
from jishi.api.schemas import ERRORS
from jishi.archives import services
from jishi.archives.acceptance import volume_gaps
from jishi.archives.models import ArchiveItem, Volume
from jishi.archives.views import require_archive_units

router = Router(tags=["archives 档案管理"])
router.add_router("", archives_files.router)


class VolumeOut(Schema):
    id: int
    code: str
    title: str
    kind: str = Field(..., description="personal 个人文书档案 / batch 综合文书档案")
    status: str = Field(..., description="draft 待整理 / organized 已整理待检查 / archived 已归档")
    unit_code: str
    batch_id: int
    batch_number: str
    nomination_id: int | None
    cadre_name: str | None
    year: int
    builds: int
    item_count: int
    built_by: str
    built_at: dt.datetime
    notes: str
    organized_by: str | None
    organized_at: dt.datetime | None
    checked_by: str | None
    checked_at: dt.datetime | None


class ItemOut(Schema):
    position: int
    item_type: str
    item_id: str
    step_id: str
    title: str
    responsible: str
    date: dt.date
    document_number: str
    pages: int
    secrecy: str
    retention: str
    carrier: str
    file_format: str
    sha256: str
    size: int
    number: int | None = Field(..., description="件号（验收后）")
    code: str = Field(..., description="档号（验收后）")
    remarks: str
    destroyed: bool


class GapOut(Schema):
    kind: str
    label: str
    where: str
    message: str


class VolumeDetail(VolumeOut):
    items: list[ItemOut]
    gaps: list[GapOut] = Field(..., description="阻碍整理、验收的问题；空表示可以归档")


class VolumeFilter(Schema):
    status: Literal["draft", "organized", "archived"] | None = None
    batch_id: int | None = Field(None, ge=1)
    unit: str | None = Field(None, min_length=1, max_length=20, description="全宗号，如 J001")


class OrganizeIn(Schema):
    notes: str = Field("", max_length=2000, description="盒内文件情况说明")
    pin: str = Field(..., min_length=1, max_length=64, description="签名口令")


class AcceptIn(Schema):
    pin: str = Field(..., min_length=1, max_length=64, description="签名口令")


def _name(user: Any) -> str | None:
    return user.get_full_name() if user is not None else None


def volume_out(v: Volume) -> dict[str, Any]:
    count = getattr(v, "item_count", None)
    return {
        "id": v.pk,
        "code": v.code,
        "title": v.title,
        "kind": v.kind,
        "status": v.status,
        "unit_code": v.org_unit.code,
        "batch_id": v.batch_id,
        "batch_number": v.batch.number,
        "nomination_id": v.nomination_id,
        "cadre_name": v.nomination.cadre.name if v.nomination else None,
        "year": v.year,
        "builds": v.builds,
        "item_count": count if count is not None else v.items.count(),
        "built_by": _name(v.built_by),
        "built_at": v.built_at,
        "notes": v.notes,
        "organized_by": _name(v.organized_by),
        "organized_at": v.organized_at,
        "checked_by": _name(v.checked_by),
        "checked_at": v.checked_at,
    }


def _item(i: ArchiveItem) -> dict[str, Any]:
    fields = ItemOut.model_fields
    return {name: getattr(i, name) for name in fields}


def _detail(volume: Volume) -> dict[str, Any]:
    return {
        **volume_out(volume),
        "items": [_item(i) for i in volume.items.order_by("position")],
        "gaps": [
            {"kind": g.kind, "label": g.label, "where": g.where, "message": g.message} for g in volume_gaps(volume)
        ],
    }


RELATED = ("org_unit", "batch", "nomination__cadre", "built_by", "organized_by", "checked_by")


@router.get("/volumes", response={200: list[VolumeOut], **ERRORS}, summary="案卷列表")
@paginate(Paged)
def volume_list(request: HttpRequest, filters: Query[VolumeFilter]) -> Any:
    units = require_archive_units(actor(request))
    qs = Volume.objects.filter(org_unit__in=units)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.batch_id is not None:
        qs = qs.filter(batch_id=filters.batch_id)
    if filters.unit:
        qs = qs.filter(org_unit__code=filters.unit)
    qs = qs.select_related(*RELATED).annotate(item_count=Count("items")).order_by("-built_at", "code")
    return Mapped(qs, volume_out)


@router.get("/volumes/{volume_id}", response={200: VolumeDetail, **ERRORS}, summary="案卷详情（文件与验收问题）")
def volume_show(request: HttpRequest, volume_id: int) -> dict[str, Any]:
    return _detail(perms.get_volume_for_user(actor(request), volume_id))


@router.post(
    "/batches/{batch_id}/build", response={201: list[VolumeOut], **ERRORS}, summary="组卷（个人档案与综合档案）"
)
def volume_build(request: HttpRequest, batch_id: int) -> Status:
    user = actor(request)
    batch = perms.get_batch_for_user(user, batch_id)
    built = services.volume_build(actor=user, batch=batch)
    return Status(201, [volume_out(v) for v in built])


@router.post(
    "/volumes/{volume_id}/organize",
    response={200: VolumeDetail, **ERRORS},
    summary="整理案卷并以整理人身份签名（需 sign 权限范围）",
)
def volume_organize(request: HttpRequest, volume_id: int, body: OrganizeIn) -> dict[str, Any]:
    require_sign_scope(request)
    user = actor(request)
    volume = perms.get_volume_for_user(user, volume_id)
    volume = services.volume_organize(actor=user, volume=volume, pin=body.pin, notes=body.notes)
    return _detail(perms.get_volume_for_user(user, volume.pk))


@router.post(
    "/volumes/{volume_id}/accept",
    response={200: VolumeDetail, **ERRORS},
    summary="检查验收并以检查人身份签名，案卷归档（需 sign 权限范围）",
)
def volume_accept(request: HttpRequest, volume_id: int, body: AcceptIn) -> dict[str, Any]:
    require_sign_scope(request)
    user = actor(request)
    volume = perms.get_volume_for_user(user, volume_id)
    volume = services.volume_accept(actor=user, volume=volume, pin=body.pin)
    return _detail(perms.get_volume_for_user(user, volume.pk))
