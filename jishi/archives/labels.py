"""Translatable labels the archive pages show (the model choices are plain Chinese, for the database)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from .models import VolumeKind, VolumeStatus

# The model choices are plain Chinese; these are the translatable labels the pages show.
STATUS_LABELS: dict[str, Any] = {
    VolumeStatus.DRAFT: gettext_lazy("待整理"),
    VolumeStatus.ORGANIZED: gettext_lazy("已整理待检查"),
    VolumeStatus.ARCHIVED: gettext_lazy("已归档"),
}
STATUS_TAGS = {"draft": "tag-available", "organized": "tag-progress", "archived": "tag-done"}
KIND_LABELS: dict[str, Any] = {
    VolumeKind.PERSONAL: gettext_lazy("个人文书档案"),
    VolumeKind.BATCH: gettext_lazy("综合文书档案"),
}
RETENTION_LABELS = {"Y": gettext_lazy("永久"), "D30": gettext_lazy("定期30年"), "D10": gettext_lazy("定期10年")}
CARRIER_LABELS = {"electronic": gettext_lazy("电子"), "paper": gettext_lazy("纸质")}
GAP_LABELS = {
    "unfinished": gettext_lazy("流程未完成"),
    "missing": gettext_lazy("缺少必备文件"),
    "unsigned": gettext_lazy("未签字确认"),
    "waiver": gettext_lazy("免除未经批准"),
    "file": gettext_lazy("文件缺失或被改动"),
    "stale": gettext_lazy("组卷后纪实有变化"),
    "numbering": gettext_lazy("件号不连续"),
}
SIGNER_LABELS = {
    "organizer": gettext_lazy("整理人"),
    "checker": gettext_lazy("检查人"),
    "handover": gettext_lazy("移交人"),
    "approver": gettext_lazy("批准人"),
    "executor": gettext_lazy("执行人"),
}
ACTION_LABELS = {
    "archive.volume_build": gettext_lazy("组卷"),
    "archive.volume_organize": gettext_lazy("整理签字"),
    "archive.volume_accept": gettext_lazy("检查验收签字"),
    "archive.volume_export": gettext_lazy("导出归档信息包"),
    "archive.catalogue_export": gettext_lazy("下载归档文件目录"),
    "archive.transfer_list_export": gettext_lazy("下载移交清单"),
    "archive.transfer_sign": gettext_lazy("移交签字"),
    "archive.hold_place": gettext_lazy("冻结"),
    "archive.hold_release": gettext_lazy("解除冻结"),
    "archive.disposition_propose": gettext_lazy("提出销毁鉴定"),
    "archive.disposition_approve": gettext_lazy("批准销毁"),
    "archive.disposition_reject": gettext_lazy("不批准销毁"),
    "archive.disposition_execute": gettext_lazy("执行销毁"),
    "archive.disposition_list_export": gettext_lazy("下载销毁清单"),
}
LABELS: dict[str, dict[str, Any]] = {
    "status": STATUS_LABELS,
    "tag": STATUS_TAGS,
    "kind": KIND_LABELS,
    "retention": RETENTION_LABELS,
    "carrier": CARRIER_LABELS,
    "gap": GAP_LABELS,
    "signer": SIGNER_LABELS,
    "action": ACTION_LABELS,
}
