"""Render the 归档文件目录 (DA/T 22-2015) with its 备考表 as a PDF (ReportLab, embedded CJK font).

A4 landscape, because nine columns do not fit a portrait page without squeezing 题名 to a few characters.
The cover block (目录封面 fields) opens page 1; the table repeats its header row on every page; the 备考表
closes the document and is never split, so the signatures stay with their notes. A volume not yet accepted
prints an empty 备考表 marked "未验收" to be filled in and signed by hand.

The table, sign-off block and page numbering helpers here are shared with ``transfer_pdf`` (移交清单,
销毁清单), so all archive documents look alike.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jishi.documents.pdfkit import numbered_canvas, styles, text

from .catalogue_data import BackupSheet, Catalogue, CatalogueRow

TITLE = "归档文件目录"
GRID = colors.HexColor("#555555")
HEAD_BG = colors.HexColor("#e8e8e8")
LABEL_BG = colors.HexColor("#f3f3f3")
ALERT = colors.HexColor("#b00020")
MARGIN = 15 * mm
HEAD = ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注")
# 267 mm: landscape A4 less 15 mm margins; 题名 takes what the short columns leave.
COLS = [12 * mm, 42 * mm, 36 * mm, 34 * mm, 77 * mm, 19 * mm, 13 * mm, 12 * mm, 22 * mm]
CENTERED = (0, 5, 6, 7)  # 序号、日期、密级、页数
BLANK_LINE = 8 * mm  # room to write a name, a date or a signature by hand


def archive_styles() -> dict[str, ParagraphStyle]:
    """The document styles plus a smaller table cell: archive lists have many narrow columns."""
    st = styles()
    st["cell"] = ParagraphStyle("cell", parent=st["body"], fontSize=8.5, leading=11)
    st["cell_c"] = ParagraphStyle("cell_c", parent=st["cell"], alignment=TA_CENTER)
    st["head"] = ParagraphStyle("head", parent=st["cell_c"], fontSize=9)
    st["block_title"] = ParagraphStyle("block_title", parent=st["body"], fontSize=12, leading=16, alignment=TA_CENTER)
    st["alert"] = ParagraphStyle("alert", parent=st["body"], fontSize=10.5, leading=14, textColor=ALERT)
    return st


def paged_canvas(header: str, footer: str, pagesize: tuple[float, float]) -> Callable[..., Canvas]:
    """``pdfkit.numbered_canvas`` placed on ``pagesize`` with the archive documents' margins."""
    return numbered_canvas(header, footer, pagesize, MARGIN, (10 * mm, 8 * mm))


def document(buffer: io.BytesIO, pagesize: tuple[float, float], title: str, subject: str) -> SimpleDocTemplate:
    """Same margins and metadata for every archive document, so they file and print alike."""
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="纪实系统",
        subject=subject,
        creator="Jishi",
    )


def data_table(
    head: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    centered: Sequence[int],
    st: dict[str, ParagraphStyle],
    empty: str,
) -> Table:
    """A list table: header repeated on every page, every cell a wrapping, escaped Paragraph."""
    cells: list[list[object]] = [[Paragraph(h, st["head"]) for h in head]]
    for row in rows:
        cells.append([Paragraph(text(v), st["cell_c" if i in centered else "cell"]) for i, v in enumerate(row)])
    style: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if not rows:
        cells.append([Paragraph(empty, st["cell_c"])] + [""] * (len(head) - 1))
        style.append(("SPAN", (0, 1), (-1, 1)))
    table = Table(cells, colWidths=list(widths), repeatRows=1, splitByRow=True)
    table.setStyle(TableStyle(style))
    return table


def form_block(
    heading: str,
    lines: Sequence[tuple[str, str] | tuple[str, str, str, str]],
    widths: Sequence[float],
    st: dict[str, ParagraphStyle],
    blank: Sequence[float] = (),
) -> Table:
    """A bordered label/value block under a heading; pairs span the row, quadruples fill both halves.

    An empty value on line ``i`` is given ``blank[i]`` of height, room to write by hand; a filled-in row
    still grows with its text.
    """
    cells: list[list[object]] = [[Paragraph(text(heading), st["block_title"]), "", "", ""]]
    style: list[Any] = [
        ("BOX", (0, 0), (-1, -1), 1, GRID),
        ("GRID", (0, 1), (-1, -1), 0.5, GRID),
        ("SPAN", (0, 0), (-1, 0)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
    ]
    for r, line in enumerate(lines, start=1):
        room = blank[r - 1] if r <= len(blank) else 0
        cells.append(
            [
                Spacer(1, room) if i % 2 and not v and room else Paragraph(text(v), st["body" if i % 2 else "label"])
                for i, v in enumerate(line)
            ]
        )
        style.append(("BACKGROUND", (0, r), (0, r), LABEL_BG))
        if len(line) == 2:
            cells[-1] += ["", ""]
            style.append(("SPAN", (1, r), (-1, r)))
        else:
            style.append(("BACKGROUND", (2, r), (2, r), LABEL_BG))
    table = Table(cells, colWidths=list(widths))
    table.setStyle(TableStyle(style))
    return table


def _cover(catalogue: Catalogue, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lines: list[tuple[str, str] | tuple[str, str, str, str]] = [
        ("全宗号", catalogue.fonds, "全宗名称", catalogue.fonds_name),
        ("年度", catalogue.year, "保管期限", catalogue.retention),
        ("机构（问题）", catalogue.org_code, "盒号（档号）", catalogue.volume_code),
        ("题名", catalogue.volume_title),
    ]
    pages = sum(row.pages for row in catalogue.rows)
    return [
        Paragraph(TITLE, st["title"]),
        form_block("目录封面", lines, [30 * mm, 103.5 * mm, 30 * mm, 103.5 * mm], st),
        Spacer(1, 2 * mm),
        Paragraph(
            f"本盒共 {len(catalogue.rows)} 件，{pages} 页；生成时间 {text(catalogue.generated_at)}。", st["small"]
        ),
        Spacer(1, 3 * mm),
    ]


def _row(row: CatalogueRow) -> tuple[object, ...]:
    return (
        row.number,
        row.code,
        row.document_number,
        row.responsible,
        row.title,
        row.date,
        row.secrecy,
        row.pages,
        row.remarks,
    )


def backup_block(backup: BackupSheet | None, st: dict[str, ParagraphStyle]) -> Flowable:
    """备考表: filled in from the accepted volume, or blank lines to sign by hand, marked 未验收."""
    widths = [34 * mm, 99.5 * mm, 34 * mm, 99.5 * mm]
    if backup is None:
        lines: list[tuple[str, str] | tuple[str, str, str, str]] = [
            ("盒内文件情况说明", ""),
            ("整理人", "", "整理日期", ""),
            ("整理人签名", ""),
            ("检查人", "", "检查日期", ""),
            ("检查人签名", ""),
        ]
        room = [28 * mm, BLANK_LINE, BLANK_LINE, BLANK_LINE, BLANK_LINE]
        note = Paragraph("未验收：本盒尚未经检查验收，备考表各栏待整理人、检查人填写并签名。", st["alert"])
        return KeepTogether([form_block("备考表", lines, widths, st, room), Spacer(1, 2 * mm), note])
    lines = [
        ("盒内文件情况说明", backup.notes.strip() or "无"),
        ("整理人", backup.organizer, "整理日期", backup.organized_on),
        ("整理人签名", backup.organizer_signature),
        ("检查人", backup.checker, "检查日期", backup.checked_on),
        ("检查人签名", backup.checker_signature),
    ]
    return KeepTogether([form_block("备考表", lines, widths, st)])


def render_catalogue(catalogue: Catalogue) -> bytes:
    """归档文件目录 of one volume as PDF bytes (cover block, item table, 备考表)."""
    st = archive_styles()
    buffer = io.BytesIO()
    pagesize = landscape(A4)
    doc = document(buffer, pagesize, f"{TITLE} — {catalogue.volume_code}", catalogue.volume_title)
    story: list[Flowable] = _cover(catalogue, st)
    rows = [_row(row) for row in catalogue.rows]
    story.append(data_table(HEAD, rows, COLS, CENTERED, st, "（本盒暂无文件）"))
    story += [Spacer(1, 6 * mm), backup_block(catalogue.backup, st)]
    header = f"{TITLE} · {catalogue.volume_code}"
    footer = f"{catalogue.fonds_name}　生成时间 {catalogue.generated_at}"
    doc.build(story, canvasmaker=paged_canvas(header, footer, pagesize))
    return buffer.getvalue()
