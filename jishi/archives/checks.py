"""System checks: a bad 档号 format or retention override must stop the server at start, not at archiving."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from . import numbering


@register()
def archive_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for problem in numbering.format_problems(settings.ARCHIVE_CODE_FORMAT):
        errors.append(Error(f"JISHI_ARCHIVE_CODE_FORMAT：{problem}", id="archives.E001"))
    for name in ("ARCHIVE_CATEGORY", "ARCHIVE_ORG_CODE"):
        value = getattr(settings, name)
        if not (isinstance(value, str) and value.isascii() and value.isalnum()):
            errors.append(Error(f"JISHI_{name} 只能由字母和数字组成：{value!r}", id="archives.E002"))
    overrides = settings.ARCHIVE_RETENTION
    if not isinstance(overrides, dict) or any(v not in numbering.RETENTION_YEARS for v in overrides.values()):
        errors.append(Error('JISHI_ARCHIVE_RETENTION 应为 {"纪实项目": "Y|D30|D10"} 形式的 JSON', id="archives.E003"))
    return errors
