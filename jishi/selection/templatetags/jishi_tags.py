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
    Role.SECADMIN: gettext_noop("安全管理员"),
    Role.AUDITOR: gettext_noop("安全审计员"),
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


ACTION_LABELS = {
    "chain.genesis": _("创建台账"),
    "org_unit.create": _("创建机构"),
    "user.create": _("创建用户"),
    "role.grant": _("授予角色"),
    "position.create": _("登记职位"),
    "cadre.create": _("登记干部"),
    "procedure.register": _("载入流程"),
    "batch.create": _("启动批次"),
    "nomination.add": _("提出人选"),
    "nomination.drop": _("人选退出"),
    "step.start": _("开始办理"),
    "step.save": _("保存纪实内容"),
    "tally.save": _("保存计票"),
    "notebook.add": _("记录纪实笔记"),
    "material.register": _("登记纪实材料"),
    "material.download": _("下载纪实材料"),
    "step.confirm": _("责任人签字确认"),
    "step.complete": _("完成步骤"),
    "step.waive": _("批准免除"),
    "step.correct": _("更正记录"),
    "step.refused": _("越过程序被拒绝"),
    "signing_key.enrol": _("启用签名密钥"),
    "signing_key.pin_change": _("更改签名口令"),
    "signing_key.rotate": _("更换签名密钥"),
    "signing_key.revoke": _("吊销签名密钥"),
    "signing.pin_failed": _("签名口令错误"),
    "signing.locked": _("签名锁定"),
    "signing.unlock": _("解除签名锁定"),
}


@register.filter
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@register.filter
def signer_label(role: str) -> str:
    if role == "system":
        return gettext("单位系统密钥")
    try:
        return gettext(ROLE_LABELS[Role(role)])
    except ValueError:
        return role
