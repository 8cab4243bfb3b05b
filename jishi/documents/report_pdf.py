"""Render a ``ReportForm`` as the printed 《领导干部选拔任用工作全程纪实报告表》 (unsigned PDF bytes).

Waivers are shaded yellow, corrections orange and superseded records grey, so a reader sees at a glance
where the procedure was not followed in the ordinary way.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .fonts import cjk_font
from .pdfkit import numbered_canvas, styles, text
from .report_data import RecordBlock, ReportForm, StepBlock

TITLE = "领导干部选拔任用工作全程纪实报告表"
WAIVED_BG = colors.HexColor("#fff4c2")
CORRECTED_BG = colors.HexColor("#ffe0c7")
SUPERSEDED_BG = colors.HexColor("#eeeeee")
GRID = colors.HexColor("#555555")
COLS = [28 * mm, 27 * mm, 75 * mm, 44 * mm]


def when(value: object) -> str:
    if value is None:
        return ""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"  # type: ignore[arg-type]


def _record_content(record: RecordBlock, st: dict[str, ParagraphStyle]) -> list[Paragraph]:
    parts: list[Paragraph] = []
    if record.superseded:
        parts.append(Paragraph("【已被更正，以下为原记录】", st["body"]))
    if record.corrected:
        parts.append(Paragraph(f"【更正记录】更正理由：{text(record.correction_reason)}", st["body"]))
    if record.waived:
        parts.append(
            Paragraph(
                f"【免除】理由：{text(record.waiver_reason)}；依据：{text(record.waiver_basis)}",
                st["body"],
            )
        )
    for label, value in record.fields:
        parts.append(Paragraph(f"{text(label)}：{text(value)}", st["body"]))
    for line in record.tally:
        parts.append(Paragraph(text(line), st["body"]))
    for note in record.notes:
        parts.append(
            Paragraph(
                f"笔记 {when(note.occurred_at)} {text(note.kind)}，{text(note.place)}；"
                f"参加：{text(note.participants)}；{text(note.content)}（记录人 {text(note.recorder)}）",
                st["small"],
            )
        )
    for m in record.materials:
        number = f"，{text(m.document_number)}" if m.document_number else ""
        parts.append(
            Paragraph(
                f"材料：{text(m.title)}{number}，{m.pages} 页，"
                + (f"{m.kind.upper()}，SHA-256 {m.sha_prefix}" if m.sha256 else "纸质原件（无电子文件）"),
                st["small"],
            )
        )
    if record.checkpoint:
        cp = record.checkpoint
        parts.append(
            Paragraph(
                f"台账：事件 #{record.last_event_seq}，由检查点 {cp.fonds}/{cp.tree_size}"
                f"（根 {cp.root[:16]}…，{cp.timestamp[:19]}）覆盖",
                st["small"],
            )
        )
    elif record.last_event_seq:
        parts.append(Paragraph(f"台账：事件 #{record.last_event_seq}，尚待下一个签名检查点覆盖", st["small"]))
    return parts or [Paragraph("—", st["body"])]


def _people(record: RecordBlock, st: dict[str, ParagraphStyle]) -> list[Paragraph]:
    lines = [Paragraph(f"经办：{text(record.started_by)}", st["small"])]
    if record.completed_by:
        lines.append(Paragraph(f"办结：{text(record.completed_by)}", st["small"]))
    for s in record.signatures:
        mark = "已电子签名" if s.signed else "未签名"
        lines.append(Paragraph(f"{text(s.role)}：{text(s.name)}（{mark}，{when(s.at)}）", st["small"]))
    if not record.signatures:
        lines.append(Paragraph("尚无责任人签字", st["small"]))
    return lines


def _step_rows(
    step: StepBlock, st: dict[str, ParagraphStyle]
) -> tuple[list[list[object]], list[tuple[int, colors.Color]]]:
    label = Paragraph(f"{step.id} {text(step.name)}<br/>（{step.scope}，{step.state}）", st["body"])
    if not step.records:
        return [[label, "", Paragraph("未办理", st["body"]), ""]], []
    rows: list[list[object]] = []
    shades: list[tuple[int, colors.Color]] = []
    for index, record in enumerate(step.records):
        dates = Paragraph(
            f"开始 {when(record.started_at)}<br/>办结 {when(record.completed_at) or '—'}",
            st["small"],
        )
        rows.append([label if index == 0 else "", dates, _record_content(record, st), _people(record, st)])
        if record.superseded:
            shades.append((index, SUPERSEDED_BG))
        elif record.waived:
            shades.append((index, WAIVED_BG))
        elif record.corrected:
            shades.append((index, CORRECTED_BG))
    return rows, shades


def render_report_form(form: ReportForm) -> bytes:
    font = cjk_font()
    st = styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=16 * mm,
        title=f"{TITLE} — {form.name}",
        author="纪实系统",
        subject=form.number,
        creator="Jishi",
    )
    story: list[Flowable] = [
        Paragraph(TITLE, st["title"]),
        Paragraph(f"纪实表编号：{text(form.number)}　　批次：{text(form.batch_number)}", st["subtitle"]),
    ]
    header = [
        ["姓名", form.name, "性别", form.sex, "出生年月", form.birth],
        ["现任职务", form.current_post, "", "", "选拔类型", form.batch_kind],
        ["拟任职务", form.proposed_post, "", "", "状态", form.status],
        ["调整批次", form.batch_title, "", "", "组织部门", form.unit],
        ["流程版本", form.procedure, "", "", "", ""],
    ]
    cells = [[Paragraph(text(c), st["body"]) for c in row] for row in header]
    head = Table(cells, colWidths=[20 * mm, 30 * mm, 14 * mm, 30 * mm, 20 * mm, 60 * mm])
    head.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, GRID),
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f3f3")),
                ("SPAN", (1, 1), (3, 1)),
                ("SPAN", (1, 2), (3, 2)),
                ("SPAN", (1, 3), (3, 3)),
                ("SPAN", (1, 4), (5, 4)),
            ]
        )
    )
    story += [head, Spacer(1, 3 * mm)]
    for stage in form.stages:
        story.append(Paragraph(text(stage.name), st["h2"]))
        rows: list[list[object]] = [[Paragraph(h, st["label"]) for h in ("步骤", "时间", "纪实内容", "责任人及签字")]]
        style: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ]
        for step in stage.steps:
            step_rows, shades = _step_rows(step, st)
            first = len(rows)
            rows.extend(step_rows)
            if len(step_rows) > 1:
                style.append(("SPAN", (0, first), (0, first + len(step_rows) - 1)))
            for offset, colour in shades:
                style.append(("BACKGROUND", (1, first + offset), (-1, first + offset), colour))
        # splitInRow: a record with many materials may be taller than a page; its row then continues overleaf.
        table = Table(rows, colWidths=COLS, repeatRows=1, splitByRow=True, splitInRow=1)
        table.setStyle(TableStyle(style))
        story.append(table)
    cp = form.latest_checkpoint
    closing: list[Flowable] = [
        Paragraph("核验信息", st["h2"]),
        Paragraph(
            f"生成时间：{form.generated_at:%Y-%m-%d %H:%M}；全宗 {text(form.fonds)} 台账最新事件 #{form.head_seq}。",
            st["body"],
        ),
        Paragraph(
            (
                f"最新签名检查点：树大小 {cp.tree_size}，根哈希 {cp.root}，时间 {cp.timestamp[:19]}。"
                if cp
                else "尚无签名检查点。"
            ),
            st["body"],
        ),
        Paragraph(
            "底色说明：黄色为经批准免除的步骤，橙色为更正记录，灰色为已被更正的原记录。"
            "本表由纪实系统依据已签名的纪实记录生成，并加盖单位电子签章；"
            "用 PDF 阅读器可查看签章是否有效、文件是否被改动。",
            st["small"],
        ),
    ]
    story.append(KeepTogether(closing))
    doc.build(story, canvasmaker=numbered_canvas(f"{TITLE}　{form.number}", f"{form.name}　{form.unit}"))
    return buffer.getvalue()
