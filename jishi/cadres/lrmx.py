"""中组部任免审批表 ``.lrmx`` files (version 3, XML) ⇄ ``ApprovalForm`` — pure: no Django, no database.

Layout: procedure-reference §3.2 (root ``Person``; one element per field in a fixed order; family rows as
``JiaTingChengYuan/Item``; photo Base64 in ``ZhaoPian``). The file comes from outside, so ``parse`` is
defensive: a size limit first, then ``defusedxml`` with DTDs, entity declarations and external references
forbidden (XXE, billion laughs), then limits on every field and on the number of family rows.

Text conventions: line breaks are ``\\n`` in the form and ``\\r\\n`` in the file (the XML parser turns the
file's ``\\r\\n`` back into ``\\n``); characters XML 1.0 cannot carry (control characters) are dropped on
export. Month fields are written exactly as the form holds them (``yyyyMM``; ``approval_io`` produces that).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields
from typing import Final

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from jishi.core.exceptions import ApplicationError

from .approval_data import ApprovalForm, FamilyRow

DEFAULT_VERSION: Final = "3.2.1.16"
DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024
MAX_FAMILY_ROWS: Final = 30
ROOT: Final = "Person"
FAMILY: Final = "JiaTingChengYuan"
FAMILY_ITEM: Final = "Item"

# Form field → LRMX element, in the order the national software writes them (§3.2).
ELEMENTS: Final[dict[str, str]] = {
    "name": "XingMing",
    "sex": "XingBie",
    "birth": "ChuShengNianYue",
    "ethnicity": "MinZu",
    "native_place": "JiGuan",
    "birthplace": "ChuShengDi",
    "party_join": "RuDangShiJian",
    "work_start": "CanJiaGongZuoShiJian",
    "health": "JianKangZhuangKuang",
    "professional_title": "ZhuanYeJiShuZhiWu",
    "expertise": "ShuXiZhuanYeYouHeZhuanChang",
    "fulltime_education": "QuanRiZhiJiaoYu_XueLi",
    "fulltime_degree": "QuanRiZhiJiaoYu_XueWei",
    "fulltime_education_school": "QuanRiZhiJiaoYu_XueLi_BiYeYuanXiaoXi",
    "fulltime_degree_school": "QuanRiZhiJiaoYu_XueWei_BiYeYuanXiaoXi",
    "inservice_education": "ZaiZhiJiaoYu_XueLi",
    "inservice_degree": "ZaiZhiJiaoYu_XueWei",
    "inservice_education_school": "ZaiZhiJiaoYu_XueLi_BiYeYuanXiaoXi",
    "inservice_degree_school": "ZaiZhiJiaoYu_XueWei_BiYeYuanXiaoXi",
    "current_post": "XianRenZhiWu",
    "proposed_post": "NiRenZhiWu",
    "post_to_remove": "NiMianZhiWu",
    "resume": "JianLi",
    "rewards_punishments": "JiangChengQingKuang",
    "annual_appraisals": "NianDuKaoHeJieGuo",
    "appointment_reason": "RenMianLiYou",
    "family": FAMILY,
    "submitting_unit": "ChengBaoDanWei",
    "retirement_age_basis": "GaiGeQianRenZhiNianLingJieXian",
    "age_reference_date": "JiSuanNianLingShiJian",
    "filled_on": "TianBiaoShiJian",
    "filled_by": "TianBiaoRen",
    "id_number": "ShenFenZheng",
    "photo": "ZhaoPian",
    "version": "Version",
}
FAMILY_ELEMENTS: Final[dict[str, str]] = {
    "relation": "ChengWei",
    "name": "XingMing",
    "birth": "ChuShengRiQi",
    "political_status": "ZhengZhiMianMao",
    "work_unit_position": "GongZuoDanWeiJiZhiWu",
}

# The labels printed on the 干部任免审批表 (§3.1), used in messages and difference tables.
LABELS: Final[dict[str, str]] = {
    "name": "姓名",
    "sex": "性别",
    "birth": "出生年月",
    "ethnicity": "民族",
    "native_place": "籍贯",
    "birthplace": "出生地",
    "party_join": "入党时间",
    "work_start": "参加工作时间",
    "health": "健康状况",
    "professional_title": "专业技术职务",
    "expertise": "熟悉专业有何专长",
    "fulltime_education": "全日制教育学历",
    "fulltime_degree": "全日制教育学位",
    "fulltime_education_school": "全日制教育学历毕业院校系及专业",
    "fulltime_degree_school": "全日制教育学位毕业院校系",
    "inservice_education": "在职教育学历",
    "inservice_degree": "在职教育学位",
    "inservice_education_school": "在职教育学历毕业院校系及专业",
    "inservice_degree_school": "在职教育学位毕业院校系",
    "current_post": "现任职务",
    "proposed_post": "拟任职务",
    "post_to_remove": "拟免职务",
    "resume": "简历",
    "rewards_punishments": "奖惩情况",
    "annual_appraisals": "年度考核结果",
    "appointment_reason": "任免理由",
    "family": "家庭主要成员及重要社会关系",
    "submitting_unit": "呈报单位",
    "retirement_age_basis": "改革前任职年龄界限",
    "age_reference_date": "计算年龄时间",
    "filled_on": "填表时间",
    "filled_by": "填表人",
    "id_number": "身份证号",
    "photo": "照片",
    "version": "数据格式版本",
}
FAMILY_LABELS: Final[dict[str, str]] = {
    "relation": "称谓",
    "name": "姓名",
    "birth": "出生年月",
    "political_status": "政治面貌",
    "work_unit_position": "工作单位及职务",
}

# Generous limits (characters): the database applies its own, narrower ones when a file is imported.
LONG_FIELDS: Final = frozenset({"resume", "rewards_punishments", "annual_appraisals", "appointment_reason"})
MAX_LONG_CHARS: Final = 20000
MAX_SHORT_CHARS: Final = 500
MAX_FAMILY_CHARS: Final = 200
MAX_ID_CHARS: Final = 30

JPEG_MAGIC: Final = b"\xff\xd8\xff"
PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"

_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_GB_CODECS: Final = frozenset({"gb2312", "gbk", "gb18030"})
_EXPAT_CODECS: Final = frozenset({"utf_8", "ascii", "utf_16", "utf_16_le", "utf_16_be", "latin_1", "iso8859_1"})


class LrmxError(ApplicationError):
    """A file that cannot be read as a 任免审批表; the message says why, in words a clerk understands."""


@dataclass(frozen=True)
class LrmxResult:
    form: ApprovalForm
    warnings: tuple[str, ...] = ()


def image_kind(data: bytes) -> str:
    """``"jpeg"``, ``"png"`` or ``""`` — by the file signature, which is all the national software checks."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    return ""


# Export ----------------------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Line breaks as ``\\r\\n`` (Windows software reads the file); characters XML cannot carry dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_ILLEGAL.sub("", value).replace("\n", "\r\n")


def _sub(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = _clean_text(text)


def build(form: ApprovalForm) -> bytes:
    """The ``.lrmx`` file for one form: UTF-8, root ``Person``, the §3.2 elements in order."""
    root = ET.Element(ROOT)
    for field_name, tag in ELEMENTS.items():
        if field_name == "family":
            family = ET.SubElement(root, FAMILY)
            for row in form.family:
                item = ET.SubElement(family, FAMILY_ITEM)
                for row_field, row_tag in FAMILY_ELEMENTS.items():
                    _sub(item, row_tag, getattr(row, row_field))
        elif field_name == "photo":
            ET.SubElement(root, tag).text = base64.b64encode(form.photo).decode("ascii")
        elif field_name == "version":
            _sub(root, tag, form.version or DEFAULT_VERSION)
        else:
            _sub(root, tag, getattr(form, field_name))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n' + body + "\r\n").encode("utf-8")


# Import ----------------------------------------------------------------------------------------------


def _local(tag: object) -> str:
    """Element name without a namespace (``{uri}XingMing`` → ``XingMing``)."""
    return str(tag).rsplit("}", 1)[-1]


def _decode(data: bytes) -> str | bytes:
    """Text for the XML parser. GB2312/GBK/GB18030 files are decoded here: expat reads no multi-byte codec."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data  # expat reads UTF-16 itself
    match = _DECLARED_ENCODING.match(data[:300])
    declared = match.group(1).decode("ascii") if match else "utf-8"
    try:
        codec = codecs.lookup(declared).name.replace("-", "_")
    except LookupError:
        raise LrmxError(
            f"文件声明的编码「{declared}」无法识别，请使用 UTF-8 或 GB18030 编码的任免审批表文件。",
            code="lrmx_encoding",
        ) from None
    if codec in _GB_CODECS:
        try:
            # GB18030 is a superset of GBK and GB2312, and files labelled GB2312 often contain GBK characters.
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise LrmxError(
                f"文件声明为 {declared} 编码，但内容不是有效的 {declared} 文本，请核对文件。", code="lrmx_encoding"
            ) from None
    if codec == "utf_8":
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LrmxError(
                "文件不是有效的 UTF-8 文本（也未声明 GB18030 等编码），请核对文件。", code="lrmx_encoding"
            ) from None
    if codec in _EXPAT_CODECS:
        return data
    raise LrmxError(
        f"不支持文件声明的编码「{declared}」，请使用 UTF-8 或 GB18030 编码的任免审批表文件。", code="lrmx_encoding"
    )


def _text(element: ET.Element, label: str, limit: int, warnings: list[str]) -> str:
    if len(element):
        warnings.append(f"「{label}」中含有多余的子元素，已忽略。")
    text = element.text or ""
    if len(text) > limit:
        raise LrmxError(f"「{label}」超过 {limit} 字，请核对文件。", code="lrmx_too_long")
    return text


def _photo(element: ET.Element) -> bytes:
    raw = "".join((element.text or "").split())  # Base64 may be wrapped over several lines
    if not raw:
        return b""
    try:
        photo = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise LrmxError("照片数据不是有效的 Base64 编码，文件可能已损坏。", code="lrmx_bad_photo") from None
    if not image_kind(photo):
        raise LrmxError("照片只能是 JPEG 或 PNG 图片。", code="lrmx_bad_photo")
    return photo


def _family(element: ET.Element, warnings: list[str]) -> tuple[FamilyRow, ...]:
    items = []
    for child in element:
        if _local(child.tag) == FAMILY_ITEM:
            items.append(child)
        else:
            warnings.append(f"家庭成员中未识别的元素「{_local(child.tag)}」已忽略。")
    if len(items) > MAX_FAMILY_ROWS:
        raise LrmxError(
            f"家庭主要成员及重要社会关系共 {len(items)} 行，超过 {MAX_FAMILY_ROWS} 行的上限，请核对文件。",
            code="lrmx_too_many_family_rows",
        )
    by_tag = {tag: name for name, tag in FAMILY_ELEMENTS.items()}
    rows = []
    for number, item in enumerate(items, start=1):
        values: dict[str, str] = {}
        for child in item:
            tag = _local(child.tag)
            name = by_tag.get(tag)
            if name is None:
                warnings.append(f"家庭成员第 {number} 行中未识别的元素「{tag}」已忽略。")
            elif name in values:
                warnings.append(f"家庭成员第 {number} 行中重复的元素「{tag}」已忽略。")
            else:
                label = f"家庭成员第 {number} 行{FAMILY_LABELS[name]}"
                values[name] = _text(child, label, MAX_FAMILY_CHARS, warnings)
        rows.append(FamilyRow(**values))
    return tuple(rows)


def parse_with_warnings(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LrmxResult:
    """Read an ``.lrmx`` file. Unknown elements are skipped and named in ``warnings``; anything unsafe or
    unreadable raises ``LrmxError``."""
    if len(data) > max_bytes:
        raise LrmxError(
            f"文件大小 {len(data) / 1024 / 1024:.1f} MB，超过 {max_bytes / 1024 / 1024:.1f} MB 的上限。",
            code="lrmx_too_large",
        )
    text = _decode(data)
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise LrmxError(
            "文件含有 DTD、实体声明或外部引用，出于安全考虑拒绝导入。请使用任免审批表软件导出的原始文件。",
            code="lrmx_forbidden",
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise LrmxError(
            f"文件不是格式正确的 XML（第 {line} 行第 {column + 1} 列附近出错），无法读取。", code="lrmx_malformed"
        ) from None
    except ValueError:
        raise LrmxError("文件不是格式正确的 XML，无法读取。", code="lrmx_malformed") from None
    if _local(root.tag) != ROOT:
        raise LrmxError(
            f"文件的根元素是「{_local(root.tag)}」而不是「{ROOT}」，不是任免审批表（LRMX）文件。",
            code="lrmx_wrong_root",
        )
    by_tag = {tag: name for name, tag in ELEMENTS.items()}
    values: dict[str, object] = {}
    warnings: list[str] = []
    for child in root:
        tag = _local(child.tag)
        name = by_tag.get(tag)
        if name is None:
            warnings.append(f"未识别的元素「{tag}」已忽略。")
            continue
        if name in values:
            warnings.append(f"重复的元素「{tag}」已忽略，以第一次出现的为准。")
            continue
        if name == "family":
            values[name] = _family(child, warnings)
        elif name == "photo":
            values[name] = _photo(child)
        else:
            limit = MAX_LONG_CHARS if name in LONG_FIELDS else MAX_ID_CHARS if name == "id_number" else MAX_SHORT_CHARS
            values[name] = _text(child, LABELS[name], limit, warnings)
    return LrmxResult(form=ApprovalForm(**values), warnings=tuple(warnings))  # type: ignore[arg-type]


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ApprovalForm:
    return parse_with_warnings(data, max_bytes=max_bytes).form


def form_fields() -> tuple[str, ...]:
    """The form's field names in file order (every one has an element)."""
    return tuple(f.name for f in fields(ApprovalForm))
