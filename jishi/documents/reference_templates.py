"""参考模本 — a blank template for every documentation item, made from the procedure definition.

The source article asks for "纪实工作各环节的具体参考模本" so that clerks know exactly what each record must
contain. Everything printed here comes from the definition (the batch's pinned version when there is one):
the item and where it sits, its 纪实要求 with their methods and responsible parties, one fillable row per
element of ``contents``, and a signature line for every responsible role. No personal data goes in, so a
template may be handed to anyone who works with the system.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph as DocxParagraph
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jishi.core.roles import ROLE_LABELS, Role
from jishi.procedures.schema import ArchiveStream, Item, ItemKind, Method, ProcedureDefinition, Requirement, Scope

from .fonts import cjk_font

KIND_NAMES = {
    ItemKind.MATERIAL: "纪实材料（原件、复印件或系统附件）",
    ItemKind.NOTEBOOK: "纪实专用笔记本记录",
    ItemKind.FORM: "规范表格（系统内结构化填报）",
}
ARCHIVE_NAMES = {
    ArchiveStream.BATCH: "干部任用综合文书档案（一批一档）",
    ArchiveStream.PERSONAL: "干部任用个人文书档案（一人一表）",
}
SCOPE_NAMES = {Scope.BATCH: "批次级", Scope.NOMINATION: "人选级"}
METHOD_NAMES = {
    Method.BJ: "纪实专用笔记本手写记录",
    Method.BG: "规范表格填报",
    Method.YJ: "原件/复印件归档",
    Method.JY: "会议记录/纪要",
    Method.LY: "录音",
    Method.XT: "系统录入并上传附件",
    Method.QZ: "责任人签字确认",
}
KIND_NOTES = {
    ItemKind.NOTEBOOK: "本项目在纪实专用笔记本上同步手写记录，不得事后补记；本模本列明记录要素，供对照记录和整理使用。",
    ItemKind.MATERIAL: "按下表逐项写明或对照整理材料，责任人签字后扫描上传系统，原件按程序顺序归档。",
    ItemKind.FORM: "本项目在系统内逐项填报；本模本供线下准备和核对使用，签字后的纸质表随档案保存。",
}
SIGNATURE_BLANK = "________________"
DATE_BLANK = "______年____月____日"
# Characters Windows and archive file systems refuse in a file name.
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True)
class ReferenceTemplate:
    """Everything one template prints, read from a definition (plain data, no Django)."""

    code: str
    version: str
    procedure_name: str
    item: Item
    stage_name: str
    stage_number: int
    step_label: str
    continued_in: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    methods: tuple[str, ...]
    signers: tuple[str, ...]
    signer_notes: tuple[str, ...]

    @property
    def title(self) -> str:
        return self.item.name

    @property
    def footer(self) -> str:
        return f"本模本由纪实系统根据流程定义 {self.code} {self.version} 生成"

    @property
    def kind_note(self) -> str:
        return KIND_NOTES[self.item.kind]

    def placement(self) -> list[tuple[str, str]]:
        """Label/value lines under the title: where the item sits and how it is kept."""
        rows = [
            ("所属环节", f"{self.stage_name}（第{self.stage_number}环节）"),
            ("操作步骤", self.step_label),
        ]
        if self.continued_in:
            rows.append(("续记步骤", "；".join(self.continued_in)))
        rows += [
            ("纪实项目", f"{self.item.id} {self.item.name}{'' if self.item.required else '（可选）'}"),
            ("纪实形式", KIND_NAMES[self.item.kind]),
            ("归档", ARCHIVE_NAMES[self.item.archive]),
            ("纪实方式", "、".join(self.methods)),
        ]
        return rows

    def filename(self, extension: str) -> str:
        stem = _UNSAFE_FILENAME.sub("_", f"{self.item.id}-{self.item.name}-参考模本").strip("_")
        return f"{stem}.{extension}"


def _role_names(roles: tuple[Role, ...] | list[Role]) -> list[str]:
    return [ROLE_LABELS[Role(r)] for r in roles]


def reference_template(definition: ProcedureDefinition, item_id: str) -> ReferenceTemplate:
    """Collect what the template of one item prints; ``KeyError`` when the definition has no such item."""
    found = next(
        (
            (number, stage, step, item)
            for number, stage in enumerate(definition.stages, 1)
            for step in stage.steps
            for item in step.items
            if item.id == item_id
        ),
        None,
    )
    if found is None:
        raise KeyError(item_id)
    stage_number, stage, step, item = found
    later = [s for s in definition.steps() if item_id in s.item_refs]
    requirements = [r for s in (step, *later) for r in s.requirements if r.item == item_id]
    if not requirements:  # a definition may state the step's requirements without naming the item
        requirements = [r for r in step.requirements if r.item is None]
    methods = list(dict.fromkeys(m for r in requirements for m in r.methods))
    roles = list(dict.fromkeys(role for r in requirements for role in r.responsible)) or list(step.responsible_roles)
    notes = [s.signer_note for s in (step, *later) if s.signer_note]
    return ReferenceTemplate(
        code=definition.code,
        version=definition.version,
        procedure_name=definition.name,
        item=item,
        stage_name=stage.name,
        stage_number=stage_number,
        step_label=f"{step.id} {step.name}（{SCOPE_NAMES[step.scope]}）",
        continued_in=tuple(f"{s.id} {s.name}" for s in later),
        requirements=tuple(requirements),
        methods=tuple(METHOD_NAMES[m] for m in methods),
        signers=tuple(_role_names(roles)),
        signer_notes=tuple(dict.fromkeys(notes)),
    )


def _requirement_note(requirement: Requirement) -> str:
    methods = "、".join(METHOD_NAMES[m] for m in requirement.methods)
    return f"纪实方式：{methods}；责任主体：{'、'.join(_role_names(list(requirement.responsible)))}"


def _contents(template: ReferenceTemplate) -> tuple[str, ...]:
    # Versions stored before ``contents`` existed still get a usable sheet: blank rows to fill by hand.
    return template.item.contents or ("",) * 6


# ── Word (python-docx) ────────────────────────────────────────────────────────────────────────

BODY_FONT = "宋体"
TITLE_FONT = "黑体"
LATIN_FONT = "Times New Roman"


def _set_fonts(rpr_owner: Any, east_asian: str) -> None:
    """Name the fonts on an element that owns a ``w:rPr`` (style, run or docDefaults' rPrDefault).

    Word picks the East Asian font from ``w:eastAsia``; a theme attribute (``w:eastAsiaTheme``, set in the
    default template's styles) would override it, so those are removed.
    """
    if hasattr(rpr_owner, "get_or_add_rPr"):  # python-docx's run and style elements keep child order
        rpr = rpr_owner.get_or_add_rPr()
    else:  # docDefaults' w:rPrDefault holds nothing but its w:rPr
        rpr = rpr_owner.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            rpr_owner.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:cs"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _docx_styles(document: Any) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if rpr_default is not None:
        _set_fonts(rpr_default, BODY_FONT)
    for name in ("Normal", "Table Grid"):
        style = document.styles[name]
        _set_fonts(style.element, BODY_FONT)
    normal = document.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.25


def _docx_text(
    paragraph: DocxParagraph, text: str, *, size: float = 11, bold: bool = False, font: str = BODY_FONT
) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    if font != BODY_FONT:
        _set_fonts(run._element, font)


def _docx_heading(document: Any, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(9)
    paragraph.paragraph_format.keep_with_next = True
    _docx_text(paragraph, text, size=13, font=TITLE_FONT)


def _docx_repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def blank_template_docx(definition: ProcedureDefinition, item_id: str) -> bytes:
    """The item's reference template as an A4 Word document (.docx)."""
    template = reference_template(definition, item_id)
    document = Document()
    _docx_styles(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(20)
    section.left_margin, section.right_margin = Mm(25), Mm(20)  # the left edge is bound into the file
    props = document.core_properties
    props.title = f"{template.title}（参考模本）"
    props.subject = template.procedure_name
    props.author = "纪实系统"
    props.language = "zh-CN"

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_text(title, template.title, size=18, font=TITLE_FONT)
    subtitle = document.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_text(subtitle, "参考模本", size=12)
    for label, value in template.placement():
        line = document.add_paragraph()
        line.paragraph_format.space_after = Pt(0)
        _docx_text(line, f"{label}：", bold=True)
        _docx_text(line, value)
    note = document.add_paragraph()
    note.paragraph_format.space_before = Pt(6)
    _docx_text(note, template.kind_note, size=10)

    _docx_heading(document, "纪实要求")
    for requirement in template.requirements:
        line = document.add_paragraph()
        line.paragraph_format.space_after = Pt(0)
        _docx_text(line, f"{requirement.id}　", bold=True)
        _docx_text(line, requirement.text)
        detail = document.add_paragraph()
        _docx_text(detail, _requirement_note(requirement), size=9.5)

    _docx_heading(document, "应包含的内容")
    table = document.add_table(rows=1, cols=2)
    table.style = document.styles["Table Grid"]
    widths = (Mm(50), Mm(115))
    head = table.rows[0]
    _docx_repeat_header(head)
    for cell, text, width in zip(head.cells, ("应包含的内容", "记录（填写）"), widths, strict=True):
        cell.width = width
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _docx_text(paragraph, text, bold=True)
    for element in _contents(template):
        row = table.add_row()
        row.height = Mm(18)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
        _docx_text(row.cells[0].paragraphs[0], element)

    _docx_heading(document, "责任人签字")
    for signer in template.signers:
        line = document.add_paragraph()
        line.paragraph_format.space_before = Pt(12)
        _docx_text(line, f"{signer}（签字）：{SIGNATURE_BLANK}　　日期：{DATE_BLANK}")
    for signer_note in template.signer_notes:
        line = document.add_paragraph()
        line.paragraph_format.space_before = Pt(6)
        _docx_text(line, f"另需签字：{signer_note}", size=10)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_text(footer, template.footer, size=8)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ── PDF (ReportLab) ───────────────────────────────────────────────────────────────────────────


def _pdf_styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, alignment=TA_CENTER, spaceAfter=4 * mm),
        "h2": ParagraphStyle("h2", parent=body, fontSize=13, leading=18, spaceBefore=5 * mm, spaceAfter=2 * mm),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=13, spaceAfter=1.5 * mm),
        "head": ParagraphStyle("head", parent=body, alignment=TA_CENTER),
        "sign": ParagraphStyle("sign", parent=body, spaceBefore=6 * mm),
    }


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(value), style)


def blank_template_pdf(definition: ProcedureDefinition, item_id: str) -> bytes:
    """The same template as an A4 PDF with the CJK font embedded, for offices without Word."""
    template = reference_template(definition, item_id)
    styles = _pdf_styles()
    story: list[Flowable] = [_p(template.title, styles["title"]), _p("参考模本", styles["subtitle"])]
    story += [
        Paragraph(f"<b>{escape(label)}：</b>{escape(value)}", styles["body"]) for label, value in template.placement()
    ]
    story += [Spacer(1, 2 * mm), _p(template.kind_note, styles["small"]), _p("纪实要求", styles["h2"])]
    for requirement in template.requirements:
        story.append(Paragraph(f"<b>{escape(requirement.id)}</b>　{escape(requirement.text)}", styles["body"]))
        story.append(_p(_requirement_note(requirement), styles["small"]))
    story.append(_p("应包含的内容", styles["h2"]))
    # The spacer in the right-hand cell keeps every row tall enough to write in, however short its label.
    rows: list[list[Any]] = [[_p("应包含的内容", styles["head"]), _p("记录（填写）", styles["head"])]]
    rows += [[_p(element, styles["body"]), Spacer(1, 14 * mm)] for element in _contents(template)]
    table = Table(rows, colWidths=[50 * mm, 115 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, "#000000"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        )
    )
    story.append(table)
    signatures: list[Flowable] = [_p("责任人签字", styles["h2"])]
    signatures += [
        _p(f"{signer}（签字）：{SIGNATURE_BLANK}　　日期：{DATE_BLANK}", styles["sign"]) for signer in template.signers
    ]
    signatures += [_p(f"另需签字：{note}", styles["small"]) for note in template.signer_notes]
    story.append(KeepTogether(signatures))

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(styles["body"].fontName, 8)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, template.footer)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=20 * mm,
        topMargin=22 * mm,
        bottomMargin=22 * mm,
        title=f"{template.title}（参考模本）",
        author="纪实系统",
        subject=template.procedure_name,
    )
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
