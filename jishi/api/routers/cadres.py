"""API: cadres (干部信息) — list, show, create, and the 任免审批表 (LRMX) routes from ``cadres_lrmx``.

There is no update or delete service for cadre master data, so neither is offered here: a cadre changes
through an LRMX import (``POST /cadres/lrmx/import``), as on the web.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.api.auth import actor
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS, Message
from jishi.cadres import services
from jishi.cadres.models import Cadre

from . import cadres_lrmx
from .cadres_lrmx import NO_NUL

router = Router(tags=["cadres 干部信息"])
router.add_router("", cadres_lrmx.router)

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def text(max_length: int, default: Any = ..., **extra: Any) -> Any:
    return Field(default, max_length=max_length, pattern=NO_NUL, **extra)


def month(default: Any = ..., **extra: Any) -> Any:
    return Field(default, pattern=MONTH, description="年-月，如 1985-07", **extra)


# Schemas ---------------------------------------------------------------------------------------------


class CadreOut(Schema):
    id: int
    name: str
    sex: str
    birth_month: dt.date = Field(..., description="出生年月（存为该月 1 日）")
    org_unit: str = Field(..., description="管理机构全宗号")
    current_post: str
    current_rank: str

    @staticmethod
    def resolve_org_unit(obj: Cadre) -> str:
        return obj.org_unit.code


class FamilyOut(Schema):
    relation: str
    name: str
    birth_month: dt.date | None
    birth_text: str
    political_status: str
    work_unit_position: str


class NominationRef(Schema):
    id: int
    number: str
    batch_id: int
    batch_number: str = Field(..., validation_alias="batch.number")
    batch_title: str = Field(..., validation_alias="batch.title")
    position: str
    status: str

    @staticmethod
    def resolve_position(obj: Any) -> str:
        return str(obj.position)


class CadreDetail(CadreOut):
    org_unit_name: str
    ethnicity: str
    native_place: str
    birthplace: str
    party_status: str
    party_join_month: dt.date | None
    work_start_month: dt.date
    health: str
    fulltime_education: str
    fulltime_degree: str
    fulltime_school_major: str
    fulltime_degree_school: str
    inservice_education: str
    inservice_degree: str
    inservice_school_major: str
    inservice_degree_school: str
    professional_title: str
    expertise: str
    resume: str
    rewards_punishments: str
    annual_appraisals: str
    current_rank_display: str
    current_post_since: dt.date
    current_rank_since: dt.date
    grassroots_months: int
    training_hours_5y: int
    retirement_age_basis: str
    id_number_masked: str | None = Field(
        None, description="身份证号（脱敏，同网页详情页）；无权查看时为 null。完整号码只在导出的 LRMX 文件中"
    )
    can_export_lrmx: bool
    family: list[FamilyOut]
    nominations: list[NominationRef]

    @staticmethod
    def resolve_org_unit_name(obj: Cadre) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_current_rank_display(obj: Cadre) -> str:
        return obj.get_current_rank_display()

    @staticmethod
    def resolve_id_number_masked(obj: Cadre, context: dict[str, Any]) -> str | None:
        # The detail page shows the masked number to the roles that may see it, and nothing to the rest.
        return obj.masked_id_number if perms.can_view_identity_number(context["request"].user, obj) else None

    @staticmethod
    def resolve_can_export_lrmx(obj: Cadre, context: dict[str, Any]) -> bool:
        return perms.can_view_identity_number(context["request"].user, obj)

    @staticmethod
    def resolve_family(obj: Cadre) -> list[Any]:
        return list(obj.family.all())

    @staticmethod
    def resolve_nominations(obj: Cadre) -> list[Any]:
        return list(obj.nominations.select_related("batch", "position"))


class FamilyIn(Schema):
    relation: str = text(20, min_length=1, description="称谓")
    name: str = text(50, min_length=1)
    birth_month: str | None = month(None)
    political_status: str = text(30, "")
    work_unit_position: str = text(100, "")


class CadreIn(Schema):
    unit: str = Field(..., min_length=1, max_length=20, pattern=NO_NUL, description="管理机构全宗号，如 J001")
    name: str = text(50)
    sex: str = text(2, description="男 / 女")
    birth_month: str = month()
    ethnicity: str = text(20)
    native_place: str = text(50)
    birthplace: str = text(50)
    party_status: str = text(30, "中共党员")
    party_join_month: str | None = month(None)
    work_start_month: str = month()
    health: str = text(20, "健康")
    fulltime_education: str = text(30, "")
    fulltime_degree: str = text(30, "")
    fulltime_school_major: str = text(100, "")
    inservice_education: str = text(30, "")
    inservice_degree: str = text(30, "")
    inservice_school_major: str = text(100, "")
    professional_title: str = text(50, "")
    expertise: str = text(100, "")
    resume: str = text(20000, description="简历，每行一段经历")
    rewards_punishments: str = text(20000, "")
    annual_appraisals: str = text(20000, "")
    current_post: str = text(100)
    current_rank: str = Field(..., max_length=30, pattern=NO_NUL, description="职级代码，如 county_deputy")
    current_post_since: str = month()
    current_rank_since: str = month()
    grassroots_months: int = Field(0, ge=0, le=1200)
    training_hours_5y: int = Field(0, ge=0, le=100000)
    id_number: str = Field("", max_length=18, pattern=r"^[0-9Xx]*$", description="18 位身份证号，可空")
    family: list[FamilyIn] = Field([], max_length=30)


# Operations ------------------------------------------------------------------------------------------


@router.get("", response={200: list[CadreOut], **ERRORS}, summary="干部列表（可见单位）")
@paginate(Paged)
def cadre_list(
    request: HttpRequest,
    # Plain types only: @paginate's wrapper resolves these annotations in ninja's module, not this one.
    unit: str | None = Query(None, max_length=20, pattern=NO_NUL, description="管理机构全宗号"),
    q: str | None = Query(None, max_length=50, pattern=NO_NUL, description="姓名或现任职务包含（同网页列表）"),
) -> QuerySet[Cadre]:
    cadres = Cadre.objects.filter(org_unit_id__in=perms.visible_unit_ids(actor(request))).select_related("org_unit")
    if unit:
        cadres = cadres.filter(org_unit__code=unit)
    query = (q or "").strip()
    if query:
        cadres = cadres.filter(Q(name__contains=query) | Q(current_post__contains=query))
    return cadres.order_by("org_unit__code", "name", "pk")


@router.get("/{cadre_id}", response={200: CadreDetail, **ERRORS}, summary="干部详情（任免审批表各项、家庭成员）")
def cadre_show(request: HttpRequest, cadre_id: int) -> Cadre:
    return perms.get_cadre_for_user(actor(request), cadre_id)


@router.post("", response={201: CadreDetail, **ERRORS}, summary="新建干部（本单位经办人、干部科长）")
def cadre_create(request: HttpRequest, body: CadreIn) -> Status:
    user = actor(request)
    unit = cadres_lrmx.unit_by_code(body.unit)
    data = body.dict(exclude={"unit"})
    cadre = services.cadre_create(actor=user, org_unit=unit, data=data)
    return Status(201, cadre)


class CadreUpdate(CadreIn):
    unit: str = Field("", max_length=20, pattern=NO_NUL, description="不可更改，忽略")


@router.put(
    "/{cadre_id}", response={200: CadreDetail, **ERRORS}, summary="修改干部信息（整表替换；本单位经办人、干部科长）"
)
def cadre_update(request: HttpRequest, cadre_id: int, body: CadreUpdate) -> Cadre:
    user = actor(request)
    cadre = perms.get_cadre_for_user(user, cadre_id)
    return services.cadre_update(actor=user, cadre=cadre, data=body.dict(exclude={"unit"}))


class DeleteIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500, pattern=NO_NUL, description="删除理由")


@router.post("/{cadre_id}/delete", response={200: Message, **ERRORS}, summary="删除误录的干部信息（未列入任何批次时）")
def cadre_delete(request: HttpRequest, cadre_id: int, body: DeleteIn) -> dict[str, str]:
    user = actor(request)
    cadre = perms.get_cadre_for_user(user, cadre_id)
    services.cadre_delete(actor=user, cadre=cadre, reason=body.reason)
    return {"message": "已删除，删除记录已记入纪实台账。"}
