from __future__ import annotations

from typing import Any

from django import template

from jishi.core.roles import ROLE_LABELS, Role

register = template.Library()

CELL_LABELS = {
    "done": "已完成",
    "waived": "已免除",
    "in_progress": "办理中",
    "available": "可办理",
    "locked": "未开放",
    "dropped": "已退出",
    "na": "",
    "completed": "已完成",
}
SCOPE_LABELS = {"batch": "批次级", "nomination": "人选级"}
KIND_LABELS = {"material": "材料", "notebook": "笔记", "form": "表单"}
ARCHIVE_LABELS = {"batch": "综合档案", "personal": "个人档案"}
METHOD_LABELS = {
    "BJ": "纪实笔记本",
    "BG": "表格",
    "YJ": "原件",
    "JY": "会议记录",
    "LY": "录音",
    "XT": "系统录入",
    "QZ": "签字",
}


@register.filter
def cell_label(state: str) -> str:
    return CELL_LABELS.get(str(state), str(state))


@register.filter
def scope_label(scope: Any) -> str:
    return SCOPE_LABELS.get(str(getattr(scope, "value", scope)), "")


@register.filter
def kind_label(kind: Any) -> str:
    return KIND_LABELS.get(str(getattr(kind, "value", kind)), "")


@register.filter
def archive_label(stream: Any) -> str:
    return ARCHIVE_LABELS.get(str(getattr(stream, "value", stream)), "")


@register.filter
def method_labels(methods: Any) -> str:
    return "、".join(METHOD_LABELS.get(str(getattr(m, "value", m)), str(m)) for m in methods)


@register.filter
def role_labels(roles: Any) -> str:
    return "、".join(ROLE_LABELS[Role(str(getattr(r, "value", r)))] for r in roles)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key, mapping.get(str(key), ""))
    return ""
