"""Render the 干部人事档案材料移交清单 and the 档案销毁清单 as PDFs (A4 portrait, embedded CJK font).

Both end in a sign-off block. Until the hand-over or the approval and execution are done, the block prints
blank lines for handwriting and a red mark (未签署, 待批准, 待执行), so a printed draft cannot be mistaken for a
completed list.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from jishi.documents.pdfkit import text

from .catalogue_data import DispositionList, TransferList
from .catalogue_pdf import BLANK_LINE, archive_styles, data_table, document, form_block, paged_canvas

TRANSFER_TITLE = "干部人事档案材料移交清单"
TRANSFER_HEAD = ("序号", "类别", "材料名称（题名）", "日期", "页数", "档号", "备注")
TRANSFER_COLS = [10 * mm, 22 * mm, 62 * mm, 18 * mm, 11 * mm, 39 * mm, 18 * mm]  # 180 mm
DISPOSITION_TITLE = "档案销毁清单"
DISPOSITION_HEAD = ("序号", "档号", "题名", "日期", "保管期限", "到期日期", "备注")
DISPOSITION_COLS = [10 * mm, 42 * mm, 57 * mm, 18 * mm, 17 * mm, 18 * mm, 18 * mm]  # 180 mm
HALVES = [30 * mm, 60 * mm, 30 * mm, 60 * mm]
Line = tuple[str, str] | tuple[str, str, str, str]


def _signoff(heading: str, lines: list[Line], marks: list[str], st: dict[str, ParagraphStyle]) -> Flowable:
    """The closing block; empty fields get room to write by hand, pending steps their red marks below it."""
    parts: list[Flowable] = [form_block(heading, lines, HALVES, st, [BLANK_LINE] * len(lines))]
    parts += [Paragraph(mark, st["alert"]) for mark in marks]
    return KeepTogether([Spacer(1, 6 * mm), *parts])


def render_transfer_list(transfer: TransferList) -> bytes:
    """移交清单 of one cadre's materials going into the 干部人事档案, as PDF bytes."""
    st = archive_styles()
    buffer = io.BytesIO()
    doc = document(buffer, A4, f"{TRANSFER_TITLE} — {transfer.cadre_name}", transfer.nomination_number)
    facts: list[Line] = [
        ("姓名", transfer.cadre_name, "纪实表编号", transfer.nomination_number),
        ("拟任（现任）职务", transfer.position),
        ("全宗名称", transfer.fonds_name),
    ]
    rows = [(r.number, r.category, r.title, r.date, r.pages, r.code, r.remarks) for r in transfer.rows]
    pages = sum(r.pages for r in transfer.rows)
    story: list[Flowable] = [
        Paragraph(TRANSFER_TITLE, st["title"]),
        form_block("移交对象", facts, HALVES, st),
        Spacer(1, 4 * mm),
        data_table(TRANSFER_HEAD, rows, TRANSFER_COLS, (0, 3, 4), st, "（无移交材料）"),
        Spacer(1, 2 * mm),
        Paragraph(f"共 {len(transfer.rows)} 份，{pages} 页。", st["body"]),
    ]
    lines: list[Line] = [
        ("移交人", transfer.handed_by, "接收人", transfer.received_by),
        ("移交日期", transfer.handed_on),
        ("签名", transfer.signature),
    ]
    marks = [] if transfer.signature else ["未签署：移交人、接收人核对材料无误后签名，并填写移交日期。"]
    story.append(_signoff("移交手续", lines, marks, st))
    header = f"{TRANSFER_TITLE} · {transfer.cadre_name} · {transfer.nomination_number}"
    footer = f"{transfer.fonds_name}　生成时间 {transfer.generated_at}"
    doc.build(story, canvasmaker=paged_canvas(header, footer, A4))
    return buffer.getvalue()


def render_disposition_list(disposition: DispositionList) -> bytes:
    """销毁清单 (or 到期鉴定清单) with its proposal, approval and execution, as PDF bytes."""
    st = archive_styles()
    buffer = io.BytesIO()
    title = disposition.title or DISPOSITION_TITLE
    doc = document(buffer, A4, title, disposition.fonds_name)
    rows = [(r.number, r.code, r.title, r.date, r.retention, r.expired_on, r.remarks) for r in disposition.rows]
    story: list[Flowable] = [
        Paragraph(text(title), st["title"]),
        Paragraph(f"全宗名称：{text(disposition.fonds_name)}", st["subtitle"]),
        Paragraph(f"销毁理由：{text(disposition.reason)}", st["body"]),
        Spacer(1, 3 * mm),
        data_table(DISPOSITION_HEAD, rows, DISPOSITION_COLS, (0, 3, 4, 5), st, "（无到期档案）"),
        Spacer(1, 2 * mm),
        Paragraph(f"共 {len(disposition.rows)} 件。", st["body"]),
    ]
    lines: list[Line] = [
        ("提出人", disposition.proposed_by),
        ("批准人", disposition.approved_by),
        ("批准签名", disposition.approval_signature),
        ("执行人", disposition.executed_by),
        ("执行签名", disposition.execution_signature),
    ]
    marks = []
    if not disposition.approved_by:
        marks.append("待批准：未经批准，不得销毁。")
    if not disposition.executed_by:
        marks.append("待执行：尚未执行销毁。")
    story.append(_signoff("审批与执行", lines, marks, st))
    footer = f"{disposition.fonds_name}　生成时间 {disposition.generated_at}"
    doc.build(story, canvasmaker=paged_canvas(f"{title}", footer, A4))
    return buffer.getvalue()
