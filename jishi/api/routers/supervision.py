"""API: early warnings (list, show, close with a signed explanation) as on the 监督看板 pages, and the public
任前公示 notices — without login, exactly the fields the public pages show."""

# No ``from __future__ import annotations``: @paginate re-reads the annotations outside this module.
import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, P, PathEx, Query, Router, Schema
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.api.auth import actor, require_sign_scope
from jishi.api.pagination import Paged
from jishi.api.routers.ledger import EventOut, Mapped, event_out
from jishi.api.schemas import ERRORS
from jishi.ledger.selectors import events_for
from jishi.supervision import dashboard, public, services
from jishi.supervision.models import EarlyWarning, Severity, WarningStatus
from jishi.supervision.views_dashboard import DASHBOARD_REFUSED
from jishi.supervision.views_public import ROBOTS

router = Router(tags=["supervision 干部监督"])

SlugPath = PathEx[str, P(max_length=64, description="公示地址标识")]
CLOSED = (WarningStatus.RESOLVED.value, WarningStatus.EXPLAINED.value)


# Warnings ----------------------------------------------------------------------------------------------


class WarningOut(Schema):
    id: int
    unit_code: str
    rule_code: str
    rule_title: str
    severity: str = Field(..., description="block 阻断 / warn 预警 / info 提示")
    status: str = Field(..., description="open 未处理 / resolved 已消除 / explained 已说明")
    message: str
    basis: str
    due_on: dt.date | None
    raised_at: dt.datetime
    batch_id: int | None
    batch_number: str | None
    nomination_id: int | None
    cadre_name: str | None
    record_id: int | None
    step_id: str
    closed_at: dt.datetime | None
    closed_by: str | None = Field(..., description="处理人姓名；系统核查消除时为空")
    closing_note: str
    closing_event_hash: str


class WarningDetail(WarningOut):
    explainable: bool = Field(..., description="调用者现在能否以签名说明结束该预警")
    history: list[EventOut]


class WarningFilter(Schema):
    unit: str | None = Field(None, min_length=1, max_length=20, description="全宗号，如 J002")
    status: Literal["open", "closed", "resolved", "explained"] | None = Field(
        None, description="closed = resolved 或 explained"
    )
    severity: Literal["block", "warn", "info"] | None = None
    rule: str | None = Field(None, min_length=1, max_length=20, description="规则编号，如 W10")
    batch_id: int | None = Field(None, ge=1)


class ExplainIn(Schema):
    explanation: str = Field(..., min_length=5, max_length=4000, description="情况说明")
    pin: str = Field(..., min_length=1, max_length=64, description="签名口令")


def _warning(w: EarlyWarning) -> dict[str, Any]:
    return {
        "id": w.pk,
        "unit_code": w.org_unit.code,
        "rule_code": w.rule_code,
        "rule_title": dashboard.rule_title(w.rule_code),
        "severity": w.severity,
        "status": w.status,
        "message": w.message,
        "basis": w.basis,
        "due_on": w.due_on,
        "raised_at": w.raised_at,
        "batch_id": w.batch_id,
        "batch_number": w.batch.number if w.batch else None,
        "nomination_id": w.nomination_id,
        "cadre_name": w.nomination.cadre.name if w.nomination else None,
        "record_id": w.record_id,
        "step_id": w.step_id,
        "closed_at": w.closed_at,
        "closed_by": w.closed_by.get_full_name() if w.closed_by else None,
        "closing_note": w.closing_note,
        "closing_event_hash": w.closing_event_hash,
    }


def _detail(request: HttpRequest, w: EarlyWarning) -> dict[str, Any]:
    user = actor(request)
    explainable = w.is_open and w.severity != Severity.BLOCK and services.can_explain(user, w)
    history = [event_out(e, user) for e in events_for("earlywarning", w.pk)]
    return {**_warning(w), "explainable": explainable, "history": history}


@router.get("/warnings", response={200: list[WarningOut], **ERRORS}, summary="预警列表（本单位及下级）")
@paginate(Paged)
def warning_list(request: HttpRequest, filters: Query[WarningFilter]) -> Any:
    user = actor(request)
    perms.require(bool(dashboard.dashboard_units(user)), DASHBOARD_REFUSED)
    status = filters.status if filters.status in WarningStatus.values else ""
    qs = dashboard.warnings_for_user(
        user,
        dashboard.WarningFilters(
            severity=filters.severity or "", rule=filters.rule or "", status=status or "", batch=filters.batch_id
        ),
    )
    if filters.status == "closed":
        qs = qs.filter(status__in=CLOSED)
    if filters.unit:
        qs = qs.filter(org_unit__code=filters.unit)
    return Mapped(qs, _warning)


@router.get("/warnings/{warning_id}", response={200: WarningDetail, **ERRORS}, summary="预警详情及处理记录")
def warning_show(request: HttpRequest, warning_id: int) -> dict[str, Any]:
    return _detail(request, dashboard.get_warning_for_user(actor(request), warning_id))


@router.post(
    "/warnings/{warning_id}/explain",
    response={200: WarningDetail, **ERRORS},
    summary="以签名情况说明结束预警（需 sign 权限范围）",
)
def warning_explain(request: HttpRequest, warning_id: int, body: ExplainIn) -> dict[str, Any]:
    require_sign_scope(request)
    user = actor(request)
    warning = dashboard.get_warning_for_user(user, warning_id)
    warning = services.warning_explain(actor=user, warning=warning, explanation=body.explanation, pin=body.pin)
    return _detail(request, dashboard.get_warning_for_user(user, warning.pk))


# Public 任前公示 (no token) ------------------------------------------------------------------------------


class NoticeSummary(Schema):
    slug: str = Field(..., description="公示的公开地址标识")
    unit_name: str
    start: dt.date
    end: dt.date
    names: list[str]


class NoticePersonOut(Schema):
    name: str
    current_post: str
    proposed_post: str


class NoticeOut(Schema):
    slug: str
    unit_name: str = Field(..., description="发布单位，也是受理反映单位")
    start: dt.date
    end: dt.date
    people: list[NoticePersonOut]
    exceptions: list[str] = Field(..., description="破格提拔的具体情形和理由")


@router.get(
    "/public/notices",
    response={200: list[NoticeSummary], **ERRORS},
    auth=None,
    summary="正在公示的干部任前公示（无需令牌）",
)
@paginate(Paged)
def notice_list(request: HttpRequest, response: HttpResponse) -> Any:
    response["X-Robots-Tag"] = ROBOTS
    return [
        {
            "slug": n.slug,
            "unit_name": n.unit_name,
            "start": n.start,
            "end": n.end,
            "names": [p.name for p in n.people],
        }
        for n in public.notices_current()
    ]


@router.get(
    "/public/notices/{slug}",
    response={200: NoticeOut, **ERRORS},
    auth=None,
    summary="一则干部任前公示（无需令牌）",
)
def notice_show(request: HttpRequest, response: HttpResponse, slug: SlugPath) -> dict[str, Any]:
    response["X-Robots-Tag"] = ROBOTS
    notice = public.notice_get(slug=slug)
    if notice is None:
        raise Http404
    return {
        "slug": notice.slug,
        "unit_name": notice.unit_name,
        "start": notice.start,
        "end": notice.end,
        "people": [
            {"name": p.name, "current_post": p.current_post, "proposed_post": p.proposed_post} for p in notice.people
        ],
        "exceptions": list(notice.exceptions),
    }
