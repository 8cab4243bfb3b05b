"""Plain data of the archive documents (归档文件目录, 备考表, 移交清单, 销毁清单) — rendered to PDF and Excel
by ``catalogue_pdf`` / ``catalogue_xlsx``; built from the database by ``archives.selectors``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueRow:
    """One line of the 归档文件目录 (DA/T 22-2015 §8): 序号、档号、文号、责任者、题名、日期、密级、页数、备注."""

    number: int  # 序号
    code: str  # 档号 ("" while the volume is not yet accepted)
    document_number: str  # 文号
    responsible: str  # 责任者
    title: str  # 题名
    date: str  # YYYYMMDD
    secrecy: str  # 密级
    pages: int  # 页数
    remarks: str  # 备注


@dataclass(frozen=True)
class BackupSheet:
    """备考表 — placed after the volume's documents; signed by the organizer and the checker."""

    notes: str  # 盒内文件情况说明
    organizer: str  # 整理人
    organized_on: str  # 整理日期 YYYYMMDD
    organizer_signature: str  # e.g. "电子签名 密钥 ab12cd34 · 台账 J001#120"
    checker: str  # 检查人
    checked_on: str  # 检查日期
    checker_signature: str


@dataclass(frozen=True)
class Catalogue:
    """归档文件目录 of one volume, with its cover fields (全宗号、全宗名称、年度、保管期限、机构（问题）)."""

    fonds: str
    fonds_name: str
    year: str
    retention: str  # summary, e.g. "永久" or "永久、定期30年" when items differ
    org_code: str
    volume_code: str
    volume_title: str
    rows: tuple[CatalogueRow, ...]
    backup: BackupSheet | None
    generated_at: str  # "2026-11-27 10:00"


@dataclass(frozen=True)
class TransferRow:
    """One material handed over to the cadre's 干部人事档案."""

    number: int
    category: str  # 干部人事档案分类, e.g. "9-2 任免"
    title: str
    date: str  # YYYYMMDD
    pages: int
    code: str  # 档号 in our archive
    remarks: str


@dataclass(frozen=True)
class TransferList:
    """移交清单 — materials of one appointed cadre going into his or her 干部人事档案."""

    fonds_name: str
    cadre_name: str
    nomination_number: str  # 纪实表编号
    position: str  # 拟任（现任）职务
    rows: tuple[TransferRow, ...]
    handed_by: str  # 移交人
    received_by: str  # 接收人
    handed_on: str  # 移交日期 YYYYMMDD ("" while not yet signed)
    signature: str  # "" while not yet signed
    generated_at: str


@dataclass(frozen=True)
class DispositionRow:
    number: int
    code: str
    title: str
    date: str
    retention: str  # label
    expired_on: str  # YYYYMMDD
    remarks: str


@dataclass(frozen=True)
class DispositionList:
    """销毁清单 / 到期鉴定清单 — items whose retention has expired, with the approval and execution."""

    fonds_name: str
    title: str
    reason: str
    rows: tuple[DispositionRow, ...]
    proposed_by: str
    approved_by: str  # "" while pending
    approval_signature: str
    executed_by: str
    execution_signature: str
    generated_at: str
