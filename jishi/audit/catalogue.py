"""The one list of sensitive URLs (views and exports of sensitive records) and of audit event names.

`AuditMiddleware` writes one ``sensitive.view`` / ``sensitive.export`` record for every response to a
URL named here, whatever its status (a refusal is recorded with outcome ``failure``). Pages are matched
by their URL name, the JSON API (``/api/v1/…``) by method and route, because django-ninja names a route
after the first operation on its path (GET and POST of ``records/<id>/notebook`` share one name).
To audit another page or endpoint, add one line here; docs/security-audit.md lists the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEW = "sensitive.view"
EXPORT = "sensitive.export"
DENIED = "access.denied"


@dataclass(frozen=True)
class Sensitive:
    event: str  # VIEW or EXPORT
    object_type: str
    kwarg: str = ""  # the URL kwarg holding the object's id ("" when the URL names no object)
    label: str = ""


# Pages, by URL name.
SENSITIVE_PAGES: dict[str, Sensitive] = {
    "cadre_detail": Sensitive(VIEW, "cadre", "pk", "干部信息（含身份证号）"),
    "cadre_lrmx_export": Sensitive(EXPORT, "cadre", "pk", "导出任免审批表（LRMX）"),
    "cadre_approval_form_pdf": Sensitive(EXPORT, "cadre", "pk", "干部任免审批表 PDF"),
    "report_form": Sensitive(VIEW, "nomination", "pk", "干部任免呈报表"),
    "report_form_pdf": Sensitive(EXPORT, "nomination", "pk", "干部任免呈报表 PDF"),
    "approval_form_pdf": Sensitive(EXPORT, "nomination", "pk", "干部任免审批表 PDF"),
    "notebook_print": Sensitive(VIEW, "batch", "pk", "纪实手册"),
    "notebook_pdf": Sensitive(EXPORT, "batch", "pk", "纪实手册 PDF"),
    "register": Sensitive(VIEW, "register", "", "干部任免登记簿"),
    "register_export": Sensitive(EXPORT, "register", "", "导出干部任免登记簿"),
    "material_download": Sensitive(EXPORT, "material", "pk", "下载纪实材料"),
    "archive_volume": Sensitive(VIEW, "volume", "pk", "案卷"),
    "archive_catalogue": Sensitive(EXPORT, "volume", "pk", "归档文件目录"),
    "archive_transfer_list": Sensitive(EXPORT, "volume", "pk", "档案移交清单"),
    "archive_disposition_pdf": Sensitive(EXPORT, "disposition", "pk", "档案销毁清册"),
    "trace_nomination": Sensitive(VIEW, "nomination", "pk", "人选全程追溯"),
    "trace_nomination_export": Sensitive(EXPORT, "nomination", "pk", "导出人选全程追溯"),
    "trace_user": Sensitive(VIEW, "user", "pk", "经办人追溯"),
    "trace_user_export": Sensitive(EXPORT, "user", "pk", "导出经办人追溯"),
    "trace_warning": Sensitive(VIEW, "warning", "pk", "预警追溯"),
    "trace_warning_export": Sensitive(EXPORT, "warning", "pk", "导出预警追溯"),
    "ledger_witness": Sensitive(EXPORT, "fonds", "fonds", "台账见证文本"),
}

# JSON API, by (method, route below /api/v1/).
SENSITIVE_API: dict[tuple[str, str], Sensitive] = {
    ("GET", "cadres/<cadre_id>"): Sensitive(VIEW, "cadre", "cadre_id", "干部详情（接口）"),
    ("GET", "cadres/<cadre_id>/lrmx"): Sensitive(EXPORT, "cadre", "cadre_id", "导出 LRMX（接口）"),
    ("GET", "materials/<material_id>/download"): Sensitive(EXPORT, "material", "material_id", "下载纪实材料（接口）"),
    ("GET", "records/<record_id>/notebook"): Sensitive(VIEW, "record", "record_id", "纪实笔记（接口）"),
    ("GET", "archives/volumes/<volume_id>/catalogue"): Sensitive(EXPORT, "volume", "volume_id", "归档文件目录（接口）"),
    ("GET", "archives/volumes/<volume_id>/export"): Sensitive(EXPORT, "volume", "volume_id", "归档信息包（接口）"),
    ("GET", "archives/batches/<batch_id>/export"): Sensitive(EXPORT, "batch", "batch_id", "批次归档信息包（接口）"),
    ("GET", "ledger/events/<fonds>/<seq>/proof"): Sensitive(VIEW, "event", "seq", "台账事件证明（接口）"),
}

API_PREFIX = "api/v1/"

# Every event name the system writes, who writes it (for the search page's filter and the documentation).
EVENTS: dict[str, str] = {
    "login": "登录（成功或失败）",
    "login.lockout": "账号锁定",
    "logout": "退出登录",
    "account.unlock": "解除锁定",
    "password.change": "修改口令",
    "password.reset": "重置口令",
    "otp.enrol": "绑定动态口令设备",
    "otp.verify": "动态口令验证",
    "otp.reset": "重置动态口令设备",
    "session.terminate": "结束会话",
    "user.create": "创建账号",
    "user.disable": "停用账号",
    "user.enable": "启用账号",
    "role.grant": "授予角色",
    "role.revoke": "撤销角色",
    VIEW: "查看敏感信息",
    EXPORT: "导出敏感信息",
    DENIED: "拒绝访问",
    "audit.search": "查询安全审计",
    "audit.export": "导出安全审计",
    "audit.archive": "归档安全审计",
}


def sensitive_for(url_name: str | None, route: str, method: str) -> Sensitive | None:
    """The catalogue entry for a resolved request, or None."""
    if route.startswith(API_PREFIX):
        return SENSITIVE_API.get((method.upper(), route[len(API_PREFIX) :]))
    if url_name and method.upper() in ("GET", "HEAD", "POST"):
        return SENSITIVE_PAGES.get(url_name)
    return None
