"""Render a batch's 纪实专用笔记本 as a PDF (ReportLab, embedded CJK font).

A cover page, then one block per entry (编号, 时间, 地点, 类别, 所属步骤, 参加人员, 主要内容, 记录人, 主持人, 确认).
Every page carries the batch number in its header and "第 N 页 共 M 页" in its footer; the total is known only
after layout, so ``pdfkit.numbered_canvas`` holds the pages back and numbers them when the document is saved.
An entry may break across pages (rows split inside, ``splitInRow``): a 5,000-character talk record is longer
than a page.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from jishi.selection.models import Batch

from .fonts import cjk_font
from .notebook_data import Entry, Notebook, notebook_for_batch
from .pdfkit import numbered_canvas, styles, text

TITLE = "纪实专用笔记本"
GRID = colors.HexColor("#555555")
LABEL_BG = colors.HexColor("#f3f3f3")
ALERT = colors.HexColor("#b00020")
COLS = [22 * mm, 63 * mm, 22 * mm, 67 * mm]  # 174 mm: A4 less 18 mm margins


def when(value: object) -> str:
    if value is None:
        return ""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"  # type: ignore[arg-type]


def _confirmation(entry: Entry, st: dict[str, ParagraphStyle]) -> list[Paragraph]:
    parts: list[Paragraph] = []
    if entry.unconfirmed:
        missing = f"（尚缺：{'、'.join(entry.missing_roles)}）" if entry.missing_roles else ""
        parts.append(Paragraph(f"{text(entry.confirmation_label)}{text(missing)}", st["alert"]))
    for line in entry.confirmations:
        stale = "" if line.current else "（确认的是修改前的内容）"
        parts.append(Paragraph(f"{text(line.role_label)}：{text(line.name)}，{when(line.at)}{stale}", st["body"]))
    if entry.waived:
        parts.append(Paragraph("该步骤已经批准免除。", st["body"]))
    if entry.superseded:
        parts.append(Paragraph("该步骤的纪实记录其后已更正；本条笔记保留原样。", st["body"]))
    return parts


def _entry_table(entry: Entry, st: dict[str, ParagraphStyle]) -> Table:
    def p(value: object) -> Paragraph:
        return Paragraph(text(value), st["body"])

    def label(value: str) -> Paragraph:
        return Paragraph(value, st["label"])

    step = f"{entry.step_id} {entry.step_name}" + (f"（对象：{entry.subject}）" if entry.subject else "")
    rows: list[list[object]] = [
        [label("编号"), Paragraph(f"第 {entry.number} 条", st["number"]), label("时间"), p(when(entry.occurred_at))],
        [label("地点"), p(entry.place), label("类别"), p(entry.kind)],
        [label("所属步骤"), p(step), "", ""],
        [label("参加人员"), p(entry.participants), "", ""],
        [label("主要内容"), p(entry.content), "", ""],
        [label("记录人"), p(entry.recorder), label("主持人"), p(entry.host or "—")],
        [label("确认"), _confirmation(entry, st), "", ""],
    ]
    style: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), LABEL_BG),
        ("BACKGROUND", (2, 0), (2, 1), LABEL_BG),
        ("BACKGROUND", (2, 5), (2, 5), LABEL_BG),
    ]
    for row in (2, 3, 4, 6):
        style.append(("SPAN", (1, row), (3, row)))
    table = Table(rows, colWidths=COLS, splitByRow=True, splitInRow=1)
    table.setStyle(TableStyle(style))
    return table


def _cover(notebook: Notebook, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    facts = [
        ("批次名称", notebook.batch_title),
        ("批次编号", notebook.batch_number),
        ("组织部门", notebook.unit),
        ("记录期间", notebook.period_text),
        ("记录条数", f"共 {len(notebook.entries)} 条"),
        ("生成时间", when(notebook.generated_at)),
    ]
    rows = [[Paragraph(k, st["label"]), Paragraph(text(v), st["cover"])] for k, v in facts]
    table = Table(rows, colWidths=[32 * mm, 110 * mm])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, GRID),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return [
        Spacer(1, 50 * mm),
        Paragraph(TITLE, st["cover_title"]),
        Spacer(1, 25 * mm),
        table,
        Spacer(1, 20 * mm),
        Paragraph(
            "本笔记本由纪实系统依据录入的纪实笔记生成，按发生时间排序编号；每条注明所属步骤、记录人及责任人确认情况。"
            "标注“未确认”的条目，其所属步骤尚未经全部责任人确认。",
            st["small"],
        ),
        PageBreak(),
    ]


def render_notebook(notebook: Notebook) -> bytes:
    font = cjk_font()
    st = styles()
    st["cover_title"] = ParagraphStyle("cover_title", parent=st["title"], fontSize=30, leading=40)
    st["cover"] = ParagraphStyle("cover", parent=st["body"], fontSize=12, leading=17)
    st["number"] = ParagraphStyle("number", parent=st["body"], fontSize=10.5, leading=14)
    st["alert"] = ParagraphStyle("alert", parent=st["body"], fontName=font, fontSize=12, leading=16, textColor=ALERT)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=16 * mm,
        title=f"{TITLE} — {notebook.batch_number}",
        author="纪实系统",
        subject=notebook.batch_title,
        creator="Jishi",
    )
    story: list[Flowable] = _cover(notebook, st)
    if not notebook.entries:
        story.append(Paragraph("本批次尚无纪实笔记。", st["body"]))
    for entry in notebook.entries:
        story += [CondPageBreak(45 * mm), _entry_table(entry, st), Spacer(1, 5 * mm)]
    header = f"{TITLE}　批次编号 {notebook.batch_number}"
    doc.build(story, canvasmaker=numbered_canvas(header, notebook.unit))
    return buffer.getvalue()


def render_notebook_pdf(batch: Batch) -> bytes:
    return render_notebook(notebook_for_batch(batch))
