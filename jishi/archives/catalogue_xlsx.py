"""Render the 归档文件目录 (with its 备考表) and the 移交清单 as Excel workbooks.

The archive staff keep their registers in Excel, so the workbook carries the same content as the PDF, in cells
one can sort and copy: 序号 and 页数 are numbers, 日期 stays the 8-digit text DA/T 22 prescribes (an Excel date
would print as 2026/3/15). Panes are frozen under the header, and the header repeats on every printed page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .catalogue_data import BackupSheet, Catalogue, TransferList

CATALOGUE_SHEET = "归档文件目录"
BACKUP_SHEET = "备考表"
TRANSFER_SHEET = "移交清单"
CATALOGUE_COLUMNS = (  # header, width
    ("序号", 6),
    ("档号", 26),
    ("文号", 18),
    ("责任者", 16),
    ("题名", 48),
    ("日期", 11),
    ("密级", 7),
    ("页数", 6),
    ("备注", 16),
)
TRANSFER_COLUMNS = (
    ("序号", 6),
    ("类别", 12),
    ("材料名称（题名）", 40),
    ("日期", 11),
    ("页数", 6),
    ("档号", 26),
    ("备注", 14),
)
TEXT_COLUMNS = {"日期"}  # kept as text: "20260315", not a number or an Excel date
HEADER_ROW = 4  # title, two info lines, header
NOT_ACCEPTED = "未验收：本盒尚未经检查验收，各栏待整理人、检查人填写并签名。"
NOT_SIGNED = "未签署：移交人、接收人核对材料无误后签名，并填写移交日期。"

Value = str | int | None
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E8EEF5")
LABEL_FILL = PatternFill("solid", fgColor="F3F3F3")
ALERT_FONT = Font(bold=True, color="B00020")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="center", wrap_text=True)


def _put(ws: Worksheet, row: int, column: int, value: Value) -> Cell:
    """Write a value; text stays text even when it starts with "=" (openpyxl would store a formula)."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _workbook(title: str, subject: str) -> tuple[Workbook, Worksheet]:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    wb.properties.title = title
    wb.properties.subject = subject
    wb.properties.creator = "干部选拔任用全程纪实系统"
    return wb, ws


def _print_setup(ws: Worksheet, orientation: Literal["portrait", "landscape"], title_rows: str | None = None) -> None:
    """A4, fit to one page wide; the header rows repeat on every printed page."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages long as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    if title_rows:
        ws.print_title_rows = title_rows


def _heading(ws: Worksheet, title: str, info: Sequence[str], width: int) -> None:
    """Title row and the info lines under it, each merged across the table."""
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=16)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    for row, line in enumerate([title, *info], start=1):
        if row > 1:
            _put(ws, row, 1, line).alignment = WRAP
            ws.row_dimensions[row].height = 20
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _table(ws: Worksheet, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[Value]]) -> int:
    """Header at ``HEADER_ROW``, then the rows; returns the last row written."""
    for c, (label, width) in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=c, value=label)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = CENTER
        cell.border = BORDER
        ws.column_dimensions[get_column_letter(c)].width = width
    r = HEADER_ROW
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for c, value in enumerate(row, start=1):
            cell = _put(ws, r, c, value)
            cell.border = BORDER
            cell.alignment = CENTER if isinstance(value, int) else WRAP
            if columns[c - 1][0] in TEXT_COLUMNS:
                cell.number_format = "@"
                cell.alignment = CENTER
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    return r


def _fields(ws: Worksheet, start: int, fields: Sequence[tuple[str, str]], label_span: int, last_column: int) -> int:
    """Bordered label / value lines (label merged over ``label_span`` columns, value over the rest up to
    ``last_column``); values are text, dates included. Returns the next free row."""
    for r, (label, value) in enumerate(fields, start=start):
        head = ws.cell(row=r, column=1, value=label)
        head.font = Font(bold=True)
        head.fill = LABEL_FILL
        head.alignment = CENTER
        body = _put(ws, r, label_span + 1, value or None)
        body.alignment = WRAP
        body.number_format = "@"
        for c in range(1, last_column + 1):
            ws.cell(row=r, column=c).border = BORDER
        if label_span > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=label_span)
        if last_column > label_span + 1:
            ws.merge_cells(start_row=r, start_column=label_span + 1, end_row=r, end_column=last_column)
        ws.row_dimensions[r].height = 24 if value else 30  # room to write by hand
    return start + len(fields)


def _backup_sheet(ws: Worksheet, catalogue: Catalogue, backup: BackupSheet | None) -> None:
    ws.title = BACKUP_SHEET
    _put(ws, 1, 1, f"备考表 · {catalogue.volume_code}").font = Font(bold=True, size=14)
    ws.merge_cells("A1:B1")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 70
    if backup is None:
        labels = ("盒内文件情况说明", "整理人", "整理日期", "整理人签名", "检查人", "检查日期", "检查人签名")
        end = _fields(ws, 3, [(label, "") for label in labels], 1, 2)
        ws.row_dimensions[3].height = 80
        ws.cell(row=end + 1, column=1, value=NOT_ACCEPTED).font = ALERT_FONT
    else:
        fields = [
            ("盒内文件情况说明", backup.notes.strip() or "无"),
            ("整理人", backup.organizer),
            ("整理日期", backup.organized_on),
            ("整理人签名", backup.organizer_signature),
            ("检查人", backup.checker),
            ("检查日期", backup.checked_on),
            ("检查人签名", backup.checker_signature),
        ]
        _fields(ws, 3, fields, 1, 2)
        ws.row_dimensions[3].height = 60
    _print_setup(ws, "portrait")


def catalogue_xlsx(catalogue: Catalogue) -> bytes:
    """归档文件目录 (sheet 1) and its 备考表 (sheet 2) as an .xlsx workbook."""
    wb, ws = _workbook(CATALOGUE_SHEET, catalogue.volume_code)
    ws.title = CATALOGUE_SHEET
    pages = sum(row.pages for row in catalogue.rows)
    info = [
        f"全宗号：{catalogue.fonds}　全宗名称：{catalogue.fonds_name}　年度：{catalogue.year}　"
        f"保管期限：{catalogue.retention}　机构（问题）：{catalogue.org_code}",
        f"盒号（档号）：{catalogue.volume_code}　题名：{catalogue.volume_title}　"
        f"共 {len(catalogue.rows)} 件 {pages} 页　生成时间：{catalogue.generated_at}",
    ]
    _heading(ws, CATALOGUE_SHEET, info, len(CATALOGUE_COLUMNS))
    rows = [
        (r.number, r.code, r.document_number, r.responsible, r.title, r.date, r.secrecy, r.pages, r.remarks)
        for r in catalogue.rows
    ]
    _table(ws, CATALOGUE_COLUMNS, rows)
    _print_setup(ws, "landscape", f"{HEADER_ROW}:{HEADER_ROW}")
    _backup_sheet(wb.create_sheet(), catalogue, catalogue.backup)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def transfer_xlsx(transfer: TransferList) -> bytes:
    """移交清单 as a one-sheet .xlsx workbook: who, the materials, and the hand-over fields."""
    wb, ws = _workbook(TRANSFER_SHEET, transfer.nomination_number)
    ws.title = TRANSFER_SHEET
    pages = sum(row.pages for row in transfer.rows)
    info = [
        f"姓名：{transfer.cadre_name}　纪实表编号：{transfer.nomination_number}　拟任（现任）职务：{transfer.position}",
        f"全宗名称：{transfer.fonds_name}　共 {len(transfer.rows)} 份 {pages} 页　生成时间：{transfer.generated_at}",
    ]
    _heading(ws, "干部人事档案材料移交清单", info, len(TRANSFER_COLUMNS))
    rows = [(r.number, r.category, r.title, r.date, r.pages, r.code, r.remarks) for r in transfer.rows]
    last = _table(ws, TRANSFER_COLUMNS, rows)
    fields = [
        ("移交人", transfer.handed_by),
        ("接收人", transfer.received_by),
        ("移交日期", transfer.handed_on),
        ("签名", transfer.signature),
    ]
    end = _fields(ws, last + 2, fields, 2, len(TRANSFER_COLUMNS))
    if not transfer.signature:
        ws.cell(row=end + 1, column=1, value=NOT_SIGNED).font = ALERT_FONT
    _print_setup(ws, "portrait", f"{HEADER_ROW}:{HEADER_ROW}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
