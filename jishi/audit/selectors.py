"""Reading the security audit: what an auditor may see, and the search filters (page, CSV, command)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from jishi.accounts import admin_permissions as ap
from jishi.accounts.models import User

from .models import AuditRecord, Outcome

PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000


@dataclass
class AuditFilters:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    username: str = ""
    event: str = ""
    outcome: str = ""
    ip: str = ""
    object_type: str = ""
    object_id: str = ""

    def as_detail(self) -> dict[str, str]:
        """The filters as written into the ``audit.search`` record (only those set)."""
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else str(v)) for k, v in asdict(self).items() if v}


def _moment(text: str, *, end: bool) -> dt.datetime:
    """``YYYY-MM-DD`` (a whole day, in the site's time zone) or ``YYYY-MM-DDTHH:MM``."""
    text = text.strip().replace(" ", "T")
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time())
    else:
        moment = dt.datetime.fromisoformat(text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def filters_parse(data: Mapping[str, Any]) -> tuple[AuditFilters, dict[str, str]]:
    """The filters from a query string or command options; errors by field name (Chinese)."""
    errors: dict[str, str] = {}
    filters = AuditFilters()
    for name in ("start", "end"):
        raw = str(data.get(name) or "").strip()
        if raw:
            try:
                setattr(filters, name, _moment(raw, end=name == "end"))
            except ValueError:
                errors[name] = "时间格式应为 年-月-日（如 2026-05-01）或 年-月-日T时:分。"
    if filters.start and filters.end and filters.start >= filters.end:
        errors["end"] = "结束时间应晚于开始时间。"
    filters.username = str(data.get("username") or "").strip()[:150]
    filters.event = str(data.get("event") or "").strip()[:50]
    outcome = str(data.get("outcome") or "").strip()
    if outcome and outcome not in Outcome.values:
        errors["outcome"] = "结果只能是“成功”或“失败”。"
    else:
        filters.outcome = outcome
    ip = str(data.get("ip") or "").strip()
    if ip:
        try:
            filters.ip = str(ipaddress.ip_address(ip))
        except ValueError:
            errors["ip"] = "来源地址不是有效的 IP 地址。"
            filters.ip = ip[:45]
    filters.object_type = str(data.get("object_type") or "").strip()[:50]
    filters.object_id = str(data.get("object_id") or "").strip()[:64]
    return filters, errors


def visible_records(user: User) -> QuerySet[AuditRecord]:
    """Records of the auditor's units and those below; records naming no unit only to top-level auditors."""
    units = ap.audit_units(user)
    if not units:
        return AuditRecord.objects.none()
    scope = Q(org_unit__in=[u.code for u in units])
    if ap.sees_unattributed_audit(user):
        scope |= Q(org_unit="")
    return AuditRecord.objects.filter(scope)


def records_search(*, user: User, filters: AuditFilters) -> QuerySet[AuditRecord]:
    """Newest first."""
    records = visible_records(user)
    if filters.start:
        records = records.filter(at__gte=filters.start)
    if filters.end:
        records = records.filter(at__lt=filters.end)
    if filters.username:
        records = records.filter(username=filters.username)
    if filters.event:
        # "sensitive." or "login" find the whole family.
        records = records.filter(Q(event=filters.event) | Q(event__startswith=filters.event.rstrip(".") + "."))
    if filters.outcome:
        records = records.filter(outcome=filters.outcome)
    if filters.ip:
        records = records.filter(ip=filters.ip)
    if filters.object_type:
        records = records.filter(object_type=filters.object_type)
    if filters.object_id:
        records = records.filter(object_id=filters.object_id)
    return records.order_by("-at", "-id")


CSV_COLUMNS = [
    ("at", "时间"),
    ("event", "事件类型"),
    ("outcome", "结果"),
    ("username", "用户名"),
    ("roles", "角色"),
    ("org_unit", "机构"),
    ("object_type", "对象类型"),
    ("object_id", "对象标识"),
    ("method", "请求方法"),
    ("path", "请求路径"),
    ("ip", "来源地址"),
    ("user_agent", "客户端"),
    ("request_id", "请求标识"),
    ("detail", "详情"),
]


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def record_row(record: AuditRecord) -> list[str]:
    import json

    values: list[Any] = []
    for name, _ in CSV_COLUMNS:
        value = getattr(record, name)
        if name == "at":
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
        elif name == "detail":
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        values.append(value)
    return [csv_safe(v) for v in values]
