"""API: org units visible to the caller, and procedure definitions (list, show)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit
from jishi.api.auth import actor
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS
from jishi.procedures.models import ProcedureVersion

router = Router(tags=["reference 机构与流程"])


class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    parent_id: int | None


class ProcedureOut(Schema):
    id: int
    code: str
    version: str
    name: str
    sha256: str


class ProcedureDetail(ProcedureOut):
    definition: dict[str, Any]


@router.get("/org-units", response={200: list[OrgUnitOut], **ERRORS}, summary="可见的组织部门（全宗）")
@paginate(Paged)
def org_unit_list(request: HttpRequest) -> Any:
    return OrgUnit.objects.filter(pk__in=perms.visible_unit_ids(actor(request))).order_by("code")


def _procedure(version: ProcedureVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "code": version.code,
        "version": version.version,
        "name": version.name,
        "sha256": version.sha256,
    }


@router.get("/procedures", response={200: list[ProcedureOut], **ERRORS}, summary="流程定义版本")
@paginate(Paged)
def procedure_list(request: HttpRequest) -> Any:
    return ProcedureVersion.objects.order_by("-id")


@router.get(
    "/procedures/{version_id}",
    response={200: ProcedureDetail, **ERRORS},
    summary="流程定义（阶段、步骤、纪实项目、规则）",
)
def procedure_show(request: HttpRequest, version_id: int) -> dict[str, Any]:
    version = ProcedureVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise Http404
    return {**_procedure(version), "definition": version.definition.model_dump(mode="json")}
