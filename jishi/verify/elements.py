"""C5: the mandatory metadata elements are present, non-empty and well formed.

DA/T 46 makes a description usable only with its core elements; a blank 题名 or 日期 is as much a gap as a
missing file, so each is reported against the item that lacks it.
"""

from __future__ import annotations

import datetime as dt

from .bag import PACKAGE_FORMAT, Bag
from .metadata import Item, Metadata, Volume
from .report import Report

VOLUME_KINDS = ("personal", "batch")
ITEM_TYPES = ("record", "material", "report_form", "approval_form", "notebook")
CARRIERS = ("电子", "纸质", "已销毁")
ITEM_REQUIRED = (
    "聚合层次",
    "档号",
    "全宗号",
    "门类代码",
    "年度",
    "保管期限",
    "机构或问题",
    "件号",
    "题名",
    "责任者",
    "日期",
    "密级",
    "页数",
    "文件类型",
    "载体",
)
ITEM_PRESENT = ("文件编号", "备注", "纪实项目", "计算机文件名", "格式信息", "计算机文件大小", "数字摘要")
ELECTRONIC_REQUIRED = ("计算机文件名", "格式信息", "计算机文件大小", "数字摘要")
VOLUME_REQUIRED = ("聚合层次", "题名", "批次编号", "年度", "机构或问题")
NOTES_REQUIRED = ("整理人", "整理日期", "检查人", "检查日期")


def _is_date(text: str) -> bool:
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return len(text) == 8


def _is_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _paper_with_file(item: Item) -> bool:
    named = any(item.get(n) for n in ("计算机文件名", "格式信息", "数字摘要"))
    return named or item.get("计算机文件大小") not in ("", "0")


def _item(item: Item, report: Report) -> None:
    where = item.label
    for name in ITEM_REQUIRED:
        if not item.get(name):
            report.add("C5", where, f"缺少必备元数据“{name}”或为空")
    for name in ITEM_PRESENT:
        if name not in item.fields:
            report.add("C5", where, f"缺少元数据元素“{name}”")
    if item.get("日期") and not _is_date(item.get("日期")):
        report.add("C5", where, f"日期“{item.get('日期')}”不是 YYYYMMDD 格式的有效日期")
    if item.get("页数") and not _digits(item.get("页数")):
        report.add("C5", where, "页数不是非负整数")
    if item.get("文件类型") and item.get("文件类型") not in ITEM_TYPES:
        report.add("C5", where, f"文件类型“{item.get('文件类型')}”不在 {'、'.join(ITEM_TYPES)} 之中")
    carrier = item.get("载体")
    if carrier and carrier not in CARRIERS:
        report.add("C5", where, f"载体“{carrier}”应为 电子、纸质 或 已销毁")
    if carrier == "电子":
        for name in ELECTRONIC_REQUIRED:
            if not item.get(name):
                report.add("C5", where, f"电子件缺少“{name}”或为空")
        if item.get("计算机文件大小") and not _digits(item.get("计算机文件大小")):
            report.add("C5", where, "计算机文件大小不是非负整数")
        if item.get("数字摘要") and not item.digest_algorithm:
            report.add("C5", where, "数字摘要未注明算法")
    elif carrier == "已销毁" and (item.get("计算机文件名") or item.get("格式信息")):
        report.add("C5", where, "已销毁的文件不应再著录计算机文件名或格式信息")
    elif carrier == "纸质" and _paper_with_file(item):
        report.add("C5", where, "纸质件不应著录计算机文件名、格式信息、数字摘要或文件大小")


def _volume(volume: Volume, report: Report) -> None:
    where = volume.label
    if not volume.code:
        report.add("C5", where, "案卷缺少编号属性")
    if volume.kind not in VOLUME_KINDS:
        report.add("C5", where, f"案卷类型“{volume.kind}”应为 personal 或 batch")
    for name in VOLUME_REQUIRED:
        if not volume.get(name):
            report.add("C5", where, f"缺少必备元数据“{name}”或为空")
    if volume.kind == "personal" and not volume.get("纪实表编号"):
        report.add("C5", where, "个人文书档案缺少纪实表编号")
    for label, ref in (("整理事件", volume.organize), ("验收事件", volume.accept)):
        if ref is None or not ref.fonds or ref.seq is None:
            report.add("C5", where, f"缺少{label}或其全宗号、事件序号无效")
    if volume.notes is None:
        report.add("C5", where, "缺少备考表")
    else:
        for name in NOTES_REQUIRED:
            if not volume.notes.get(name):
                report.add("C5", where, f"备考表缺少“{name}”或为空")
        for name in ("整理日期", "检查日期"):
            if volume.notes.get(name) and not _is_date(volume.notes[name]):
                report.add("C5", where, f"备考表{name}不是 YYYYMMDD 格式的有效日期")
    if not volume.items:
        report.add("C5", where, "案卷中没有文件")
    for item in volume.items:
        _item(item, report)


def check_elements(metadata: Metadata, bag: Bag, report: Report) -> None:
    if metadata.version != PACKAGE_FORMAT:
        report.add("C5", "metadata.xml", f"版本属性应为 {PACKAGE_FORMAT}")
    packed = metadata.packaging.get("封装时间", "")
    if not packed or not _is_time(packed):
        report.add("C5", "metadata.xml", "封装信息缺少封装时间或不是 ISO 8601 时间")
    if not metadata.packaging.get("封装软件"):
        report.add("C5", "metadata.xml", "封装信息缺少封装软件")
    for name in ("立档单位名称", "全宗号"):
        if not metadata.source.get(name):
            report.add("C5", "metadata.xml", f"来源缺少“{name}”或为空")
    if not metadata.volumes:
        report.add("C5", "metadata.xml", "没有著录任何案卷")
    for volume in metadata.volumes:
        _volume(volume, report)
    identifiers = set(bag.info_value("External-Identifier").split())
    codes = {v.code for v in metadata.volumes}
    if bag.info and identifiers != codes:
        report.add("C5", "bag-info.txt", "External-Identifier 列出的案卷与 metadata.xml 中的案卷不一致")
