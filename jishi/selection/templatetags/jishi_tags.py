from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from jishi.core.roles import ROLE_LABELS, Role

register = template.Library()

CELL_LABELS = {
    "done": _("已完成"),
    "waived": _("已免除"),
    "in_progress": _("办理中"),
    "available": _("可办理"),
    "locked": _("未开放"),
    "dropped": _("已退出"),
    "na": "",
    "completed": _("已完成"),
}
SCOPE_LABELS = {"batch": _("批次级"), "nomination": _("人选级")}
KIND_LABELS = {"material": _("材料"), "notebook": _("笔记"), "form": _("表单")}
ARCHIVE_LABELS = {"batch": _("综合档案"), "personal": _("个人档案")}
METHOD_LABELS = {
    "BJ": _("纪实笔记本"),
    "BG": _("表格"),
    "YJ": _("原件"),
    "JY": _("会议记录"),
    "LY": _("录音"),
    "XT": _("系统录入"),
    "QZ": _("签字"),
}
# The role names themselves live in jishi.core.roles (plain Chinese strings); they are marked here so
# makemessages puts them in the catalog, and the filters and templates translate them when shown.
ROLE_MSGIDS = {
    Role.CLERK: gettext_noop("经办人"),
    Role.SECTION_HEAD: gettext_noop("干部科长"),
    Role.DEPT_LEADER: gettext_noop("部领导"),
    Role.DEPT_COMMITTEE: gettext_noop("部务会成员"),
    Role.PARTY_COMMITTEE: gettext_noop("党委（党组）成员"),
    Role.DISCIPLINE: gettext_noop("纪检监察"),
    Role.SUPERVISION: gettext_noop("干部监督"),
    Role.ARCHIVIST: gettext_noop("档案管理员"),
    Role.SYSADMIN: gettext_noop("系统管理员"),
}
# List separator: 、 in Chinese, ", " in English.
LIST_SEPARATOR = gettext_noop("、")


@register.filter
def cell_label(state: str) -> str:
    return str(CELL_LABELS.get(str(state), str(state)))


@register.filter
def scope_label(scope: Any) -> str:
    return str(SCOPE_LABELS.get(str(getattr(scope, "value", scope)), ""))


@register.filter
def kind_label(kind: Any) -> str:
    return str(KIND_LABELS.get(str(getattr(kind, "value", kind)), ""))


@register.filter
def archive_label(stream: Any) -> str:
    return str(ARCHIVE_LABELS.get(str(getattr(stream, "value", stream)), ""))


@register.filter
def method_labels(methods: Any) -> str:
    return gettext(LIST_SEPARATOR).join(str(METHOD_LABELS.get(str(getattr(m, "value", m)), str(m))) for m in methods)


@register.filter
def role_labels(roles: Any) -> str:
    return gettext(LIST_SEPARATOR).join(gettext(str(ROLE_LABELS[Role(str(getattr(r, "value", r)))])) for r in roles)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key, mapping.get(str(key), ""))
    return ""
