"""data/metadata.xml (DA/T 46-style description) read with defusedxml into plain dataclasses.

Parsing refuses DTDs, entities and external references (XML bombs, XXE). Values are kept as the text found,
with absent elements distinguishable from empty ones, so C5 can tell "missing" from "blank" and the other checks
convert and report bad values themselves instead of failing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

ROOT_TAG = "归档信息包"


DESTROYED = "已销毁"  # 载体 of an item destroyed under a signed disposition: listed, without its file


class MetadataError(Exception):
    """metadata.xml cannot be used at all; the message (Chinese) says why."""


@dataclass(frozen=True)
class EventRef:
    fonds: str
    seq: int | None  # None when 事件序号 is not a positive integer
    raw: str

    @property
    def label(self) -> str:
        return f"全宗 {self.fonds} 第 {self.raw} 号事件"


@dataclass
class Item:
    position: int
    attrs: dict[str, str]
    fields: dict[str, str]  # child element → stripped text ("" when empty); absent elements are not keys
    digest_algorithm: str
    ledger: EventRef | None

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def code(self) -> str:
        return self.get("档号")

    @property
    def label(self) -> str:
        return self.code or f"第 {self.attrs.get('序号', self.position)} 件（无档号）"

    @property
    def electronic(self) -> bool:
        return self.get("载体") == "电子"

    @property
    def destroyed(self) -> bool:
        return self.get("载体") == DESTROYED

    @property
    def file_name(self) -> str:
        return self.get("计算机文件名")

    @property
    def data_path(self) -> str:
        return f"data/{self.file_name}"


@dataclass
class Volume:
    code: str
    kind: str
    fields: dict[str, str]
    notes: dict[str, str] | None  # 备考表
    organize: EventRef | None
    accept: EventRef | None
    items: list[Item] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def label(self) -> str:
        return self.code or "（无编号的案卷）"


@dataclass
class Metadata:
    version: str
    packaging: dict[str, str]  # 封装信息
    source: dict[str, str]  # 来源
    volumes: list[Volume]
    has_packaging: bool = True
    has_source: bool = True


def _text(el: Element | None) -> str:
    return "" if el is None else "".join(el.itertext()).strip()


def _fields(el: Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in el:
        if isinstance(child.tag, str):
            fields.setdefault(child.tag, _text(child))
    return fields


def _ref(el: Element | None) -> EventRef | None:
    if el is None:
        return None
    raw = (el.get("事件序号") or "").strip()
    if not raw:
        return None  # the exporter writes an empty reference for items no event registered
    seq = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) > 0 else None
    return EventRef((el.get("全宗号") or "").strip(), seq, raw)


def _item(position: int, el: Element) -> Item:
    digest = el.find("数字摘要")
    return Item(
        position=position,
        attrs=dict(el.attrib),
        fields=_fields(el),
        digest_algorithm=((digest.get("算法") if digest is not None else None) or "").strip(),
        ledger=_ref(el.find("台账事件")),
    )


def _volume(el: Element) -> Volume:
    notes = el.find("备考表")
    return Volume(
        code=(el.get("编号") or "").strip(),
        kind=(el.get("类型") or "").strip(),
        fields=_fields(el),
        notes=_fields(notes) if notes is not None else None,
        organize=_ref(el.find("整理事件")),
        accept=_ref(el.find("验收事件")),
        items=[_item(i, child) for i, child in enumerate(el.findall("文件"), 1)],
    )


def parse_metadata(data: bytes) -> Metadata:
    """Parse metadata.xml bytes; ``MetadataError`` for anything that is not a usable description."""
    try:
        root: Any = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MetadataError(f"含有被禁止的 XML 结构（DTD、实体或外部引用）：{type(exc).__name__}") from None
    except ParseError as exc:
        raise MetadataError(f"不是格式正确的 XML：{exc}") from None
    except (ValueError, RecursionError) as exc:
        raise MetadataError(f"无法解析：{exc}") from None
    if root.tag != ROOT_TAG:
        raise MetadataError(f"根元素应为 <{ROOT_TAG}>，实际为 <{root.tag}>")
    packaging, source = root.find("封装信息"), root.find("来源")
    return Metadata(
        version=(root.get("版本") or "").strip(),
        packaging=_fields(packaging) if packaging is not None else {},
        source=_fields(source) if source is not None else {},
        volumes=[_volume(v) for v in root.findall("案卷")],
        has_packaging=packaging is not None,
        has_source=source is not None,
    )
