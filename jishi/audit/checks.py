"""System check: the audit's online retention may not be shorter than the legal minimum."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from .models import MIN_RETENTION_DAYS

DEFAULT_RETENTION_DAYS = 365


def retention_days() -> int:
    return int(getattr(settings, "JISHI_AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def check_audit_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    days = getattr(settings, "JISHI_AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        return [
            Error(
                f"JISHI_AUDIT_RETENTION_DAYS={days!r}：安全审计记录至少在线保存 {MIN_RETENTION_DAYS} 天（六个月）。",
                hint=f"设置为不小于 {MIN_RETENTION_DAYS} 的整数（默认 {DEFAULT_RETENTION_DAYS}）。",
                id="jishi.audit.E001",
            )
        ]
    return []
