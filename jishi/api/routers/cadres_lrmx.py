"""API: 任免审批表 (LRMX) files — export one cadre's, preview an upload's differences, import it.

The web keeps the previewed bytes in the session; the API is stateless, so the import takes the file again
with the ``sha256`` the preview answered, and the service refuses a file other than the previewed one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit
from jishi.api.auth import actor
from jishi.api.schemas import ERRORS
from jishi.cadres import services
from jishi.core.exceptions import ApplicationError

router = Router()  # tags come from the parent router in cadres.py

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refused as 422, not a server error

LRMX_DOWNLOAD = {
    "responses": {
        200: {
            "description": "任免审批表 LRMX 文件（XML，含身份证号；导出留痕）",
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def unit_by_code(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise ApplicationError(f"没有全宗号为「{code}」的组织部门。", code="unknown_unit")
    return unit


def _read(file: UploadedFile) -> bytes:
    return file.read(settings.LRMX_MAX_BYTES + 1)  # one byte more: the service then says "too large"


class LrmxUploadIn(Schema):
    unit: str = Field(
        ..., min_length=1, max_length=20, pattern=NO_NUL, description="导入到哪个组织部门（全宗号，如 J001）"
    )


class LrmxImportIn(LrmxUploadIn):
    sha256: str = Field(..., pattern=r"^[0-9a-fA-F]{64}$", description="预览时返回的文件 sha256")
    current_rank: str = Field(
        "", max_length=30, pattern=NO_NUL, description="新建干部时：现任职级代码（如 county_deputy）"
    )
    current_post_since: str = Field(
        "", max_length=7, description="新建干部时：任现职时间 YYYY-MM（默认取简历最后一段）"
    )
    current_rank_since: str = Field(
        "", max_length=7, description="新建干部时：任现职级时间 YYYY-MM（默认同任现职时间）"
    )


class ChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str


class LrmxPreviewOut(Schema):
    sha256: str
    name: str = Field(..., description="文件中的姓名")
    cadre_id: int | None = Field(..., description="将更新的干部；null 表示将新建")
    changes: list[ChangeOut] = Field(..., description="逐项差异（身份证号脱敏）")
    warnings: list[str]
    suggested_post_since: str = Field(..., description="新建干部时任现职时间的建议值（简历最后一段）")


class LrmxImportOut(Schema):
    id: int
    name: str
    created: bool


@router.get(
    "/{cadre_id}/lrmx",
    response={200: None, **ERRORS},
    summary="导出干部任免审批表（LRMX）",
    openapi_extra=LRMX_DOWNLOAD,
)
def cadre_lrmx_export(request: HttpRequest, cadre_id: int, nomination: int | None = None) -> HttpResponse:
    user = actor(request)
    cadre = perms.get_cadre_for_user(user, cadre_id)
    found = perms.get_nomination_for_user(user, nomination) if nomination is not None else None
    data = services.cadre_lrmx_export(actor=user, cadre=cadre, nomination=found)
    response = HttpResponse(data, content_type="application/xml")
    response["Content-Disposition"] = (
        f"attachment; filename=\"cadre-{cadre.pk}.lrmx\"; filename*=UTF-8''{quote(cadre.name + '.lrmx')}"
    )
    response["Cache-Control"] = "no-store"  # the file carries the ID number
    return response


@router.post(
    "/lrmx/preview",
    response={200: LrmxPreviewOut, **ERRORS},
    summary="预览任免审批表（LRMX）导入的逐项差异（不作修改）",
)
def cadre_lrmx_preview(request: HttpRequest, form: Form[LrmxUploadIn], file: File[UploadedFile]) -> dict[str, Any]:
    preview = services.cadre_lrmx_preview(actor=actor(request), org_unit=unit_by_code(form.unit), data=_read(file))
    return {
        "sha256": preview.sha256,
        "name": preview.form.name,
        "cadre_id": preview.cadre.pk if preview.cadre is not None else None,
        "changes": preview.changes,
        "warnings": list(preview.warnings),
        "suggested_post_since": preview.suggested_post_since,
    }


@router.post(
    "/lrmx/import",
    response={201: LrmxImportOut, **ERRORS},
    summary="导入任免审批表（LRMX）：新建或更新干部",
)
def cadre_lrmx_import(request: HttpRequest, form: Form[LrmxImportIn], file: File[UploadedFile]) -> Status:
    user = actor(request)
    unit = unit_by_code(form.unit)
    data = _read(file)
    # Whether the file is a new cadre (for the answer); a file the service refuses is refused here already.
    created = services.cadre_lrmx_preview(actor=user, org_unit=unit, data=data).cadre is None
    cadre = services.cadre_lrmx_import(
        actor=user,
        org_unit=unit,
        data=data,
        confirm_sha256=form.sha256,
        current_rank=form.current_rank,
        current_post_since=form.current_post_since,
        current_rank_since=form.current_rank_since,
    )
    return Status(201, {"id": cadre.pk, "name": cadre.name, "created": created})
