"""档号 (archival codes) per DA/T 22-2015 — pure: formats, retention codes and gap detection.

Default structure ``全宗号-门类代码·年度-保管期限-机构（问题）代码-件号``, e.g. ``J001-WS·2026-Y-GB-0001``:
"-" joins levels, "·" joins parts of one level. The format is configurable (``ARCHIVE_CODE_FORMAT``) but must
keep every part, so that two items can never share a code.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_FORMAT = "{fonds}-{category}·{year}-{retention}-{org}-{number:04d}"
FIELDS = ("fonds", "category", "year", "retention", "org", "number")
CATEGORY_WS = "WS"  # 文书

RETENTION_YEARS: dict[str, int | None] = {"Y": None, "D30": 30, "D10": 10}
RETENTION_LABELS = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}

# 国家档案局第8号令 Art. 7(五): 人事任免文件材料 are kept permanently; routine process papers (sign-in
# sheets, advance notices, public notices) are commonly D30/D10 in local 归档范围表 — verify locally and
# override per documentation item with ARCHIVE_RETENTION.
TYPE_RETENTION = {
    "record": "Y",
    "material": "Y",
    "report_form": "Y",
    "approval_form": "Y",
    "notebook": "Y",
}
ITEM_RETENTION = {
    "I13": "D30",  # 会议推荐签到表、推荐表
    "I17": "D10",  # 考察预告
    "I32": "D30",  # 任职前公示公告及公示情况
}

_PART = re.compile(r"^[A-Za-z0-9]+$")


class CodeError(ValueError):
    """A format or a part that cannot make a valid 档号."""


@dataclass(frozen=True)
class CodeParts:
    fonds: str
    category: str
    year: int
    retention: str
    org: str
    number: int


def format_problems(fmt: str) -> list[str]:
    """Why ``fmt`` is not a usable 档号 format ([] when it is)."""
    problems: list[str] = []
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        return [f"格式串无法解析：{exc}"]
    unknown = sorted({n for n in names if n not in FIELDS})
    if unknown:
        problems.append(f"未知字段：{', '.join(unknown)}")
    missing = [f for f in FIELDS if f not in names]
    if missing:
        problems.append(f"缺少字段：{', '.join(missing)}（档号须包含全部组成部分）")
    if not problems:
        try:
            format_code(CodeParts("J001", "WS", 2026, "Y", "GB", 1), fmt, check=False)
        except (ValueError, KeyError, IndexError) as exc:
            problems.append(f"格式串无法使用：{exc}")
    return problems


def format_code(parts: CodeParts, fmt: str = DEFAULT_FORMAT, *, check: bool = True) -> str:
    if check and (problems := format_problems(fmt)):
        raise CodeError("；".join(problems))
    for name in ("fonds", "category", "org"):
        value = getattr(parts, name)
        if not _PART.match(value):
            raise CodeError(f"档号组成部分 {name}={value!r} 只能由字母和数字组成")
    if parts.retention not in RETENTION_YEARS:
        raise CodeError(f"保管期限代码 {parts.retention!r} 无效（应为 Y、D30 或 D10）")
    if not 1000 <= parts.year <= 9999:
        raise CodeError(f"年度 {parts.year} 无效")
    if parts.number < 1:
        raise CodeError("件号从 1 开始")
    return fmt.format(
        fonds=parts.fonds,
        category=parts.category,
        year=parts.year,
        retention=parts.retention,
        org=parts.org,
        number=parts.number,
    )


def default_retention(item_type: str, item_id: str = "", overrides: Mapping[str, str] | None = None) -> str:
    """保管期限 of an item: a per-item override, else the item's default, else the type's (永久 for 任免)."""
    table = {**ITEM_RETENTION, **(overrides or {})}
    code = table.get(item_id) or TYPE_RETENTION.get(item_type, "Y")
    if code not in RETENTION_YEARS:
        raise CodeError(f"保管期限代码 {code!r} 无效（应为 Y、D30 或 D10）")
    return code


def expiry_year(year: int, retention: str) -> int | None:
    """The last year an item must be kept; None for 永久. Review is due from 1 January of the next year."""
    years = RETENTION_YEARS[retention]
    return None if years is None else year + years


def gaps(numbers: Iterable[int], start: int = 1) -> tuple[list[int], list[int]]:
    """(missing, duplicated) 件号 in a sequence that should run start, start+1, … without holes."""
    seen: set[int] = set()
    duplicated: list[int] = []
    for n in numbers:
        if n in seen:
            duplicated.append(n)
        seen.add(n)
    if not seen:
        return [], duplicated
    missing = [n for n in range(start, max(seen) + 1) if n not in seen]
    return missing, sorted(set(duplicated))
