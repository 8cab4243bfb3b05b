"""Render an ``ApprovalForm`` as the printed 《干部任免审批表》 — A4, the standard two-page layout.

Page 1 (front): title, the particulars grid with the photo spanning its first four rows, 学历学位, the posts,
and the 简历 cell filling the rest of the page. Page 2 (back): 奖惩情况, 年度考核结果, 任免理由, the family
table (at least seven rows, more flow on), 呈报单位 and the two approval blocks, then 填表人 / 填表时间.

Nothing is ever cut off: short cells shrink their font before a row grows; the 简历 shrinks down to
``RESUME_MIN_SIZE`` and what still does not fit continues on attached pages titled 简历（续）. Those pages
come after page 2, so the two form pages still print back to back on one sheet as the paper form is.

Pure: no database; Django settings are read only through ``cjk_font``. The same input gives the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from jishi.cadres.approval_data import ApprovalForm, FamilyRow

from .fonts import cjk_font

TITLE = "干部任免审批表"
AUTHOR = "纪实系统"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 14 * mm
MARGIN_BOTTOM = 14 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN_X  # 174 mm
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
SAFETY = 2.0  # points kept free so rounding never pushes a page-filling table onto the next page

PAD_X = 3.0
PAD_Y = 2.5
BIG = 100_000.0

LABEL_SIZE = 10.5  # 五号
VALUE_SIZE = 10.5
SHRINK_MIN = 7.0  # short cells shrink to this before their row grows
RESUME_SIZE = 12.0  # 小四
RESUME_MIN_SIZE = 8.0
FAMILY_MIN_ROWS = 7

# Page 1 columns: 姓名 | value | 性别 | value | 出生年月 | value | 照片
P1_COLS = [19 * mm, 23 * mm, 17 * mm, 23 * mm, 21 * mm, 31 * mm, 40 * mm]
# Page 2 columns: label | 称谓 | 姓名 | 出生年月 | 政治面貌 | 工作单位及职务
P2_COLS = [19 * mm, 16 * mm, 22 * mm, 24 * mm, 23 * mm, 70 * mm]

HEAD_ROW = 13 * mm
EDU_ROW = 12 * mm
POST_ROW = 12 * mm
MIN_RESUME = 25 * mm
FAMILY_ROW = 8.5 * mm
DATE_LINE = "年\u3000\u3000月\u3000\u3000日"
CONTINUED = "（简历未完，续见附页“简历（续）”）"

PIECE_HEIGHT = FRAME_HEIGHT * 0.3  # taller cell texts are cut into several rows (see _Grid)
LINE = 0.6
BORDER = 1.2


def render_approval_form(form: ApprovalForm, *, title: str = TITLE) -> bytes:
    """The 任免审批表 of ``form`` as PDF bytes (A4; two pages unless the 简历 or family list overflows)."""
    font = cjk_font()
    st = _Styles.make(font)
    heading = Paragraph(_text(title), st.title)
    heading_height = heading.wrap(WIDTH, BIG)[1] + 4 * mm

    top = _particulars(form, st)
    resume_height = max(MIN_RESUME, FRAME_HEIGHT - heading_height - top.total() - SAFETY)
    resume_cell, overflow = _resume_cell(form.resume, st, resume_height)

    story: list[Flowable] = [heading, Spacer(1, 4 * mm), top.table(), _resume_table(resume_cell, resume_height, st)]
    story += [PageBreak(), *_back_page(form, st)]
    if overflow:
        story += [PageBreak(), *_continuation(form, overflow, st, title)]

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{title} — {form.name}" if form.name else title,
        author=AUTHOR,
        creator=AUTHOR,
        subject=title,
        invariant=1,  # fixed dates and document id: the same form gives the same bytes
        initialFontName=font,  # else every page names a non-embedded Helvetica it never uses
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, FRAME_HEIGHT, 0, 0, 0, 0, id="form")
    doc.addPageTemplates([PageTemplate(id="form", frames=[frame])])
    doc.build(story)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- values


def month(value: str) -> str:
    """``yyyyMM`` (or ``yyyyMMdd``) as the form prints it, ``yyyy.MM``; any other text as given."""
    value = value.strip()
    if re.fullmatch(r"\d{6}|\d{8}", value):
        return f"{value[:4]}.{value[4:6]}"
    return value


def day(value: str) -> str:
    """``yyyyMMdd`` as ``yyyy.MM.dd``, ``yyyyMM`` as ``yyyy.MM``; any other text as given."""
    value = value.strip()
    if re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}.{value[4:6]}.{value[6:]}"
    return month(value)


def party_join(value: str) -> str:
    """入党时间: a ``yyyyMM`` date, a 民主党派 name, or both separated by ``；``."""
    return "；".join(month(part) for part in value.split("；"))


def _year_month(value: str) -> tuple[int, int] | None:
    value = value.strip()
    if not re.fullmatch(r"\d{6}|\d{8}", value):
        return None
    year, mon = int(value[:4]), int(value[4:6])
    if not 1 <= mon <= 12:
        return None
    if len(value) == 8:
        try:
            date(year, mon, int(value[6:]))
        except ValueError:
            return None
    return year, mon


def age_at(birth: str, reference: str) -> int | None:
    """Age in whole years at ``reference`` (``yyyyMMdd`` or ``yyyyMM``), counted by month as the form does."""
    born, ref = _year_month(birth), _year_month(reference)
    if born is None or ref is None:
        return None
    age = ref[0] - born[0] - (1 if ref[1] < born[1] else 0)
    return age if age >= 0 else None


def birth_with_age(birth: str, reference: str) -> str:
    """``1980.07（46岁）``; without the age when the reference date is empty or unreadable."""
    shown = month(birth)
    age = age_at(birth, reference)
    return f"{shown}（{age}岁）" if shown and age is not None else shown


def _schools(education_school: str, degree_school: str) -> str:
    a, b = education_school.strip(), degree_school.strip()
    if a and b and a != b:
        return f"{a}\n{b}"
    return a or b


def _lines(*values: str) -> str:
    return "\n".join(v.strip() for v in values if v.strip())


def _text(value: str) -> str:
    """Escape for a Paragraph's mini-markup, keeping line breaks."""
    return escape(value.replace("\r\n", "\n")).replace("\n", "<br/>")


# ---------------------------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    label: ParagraphStyle
    center: ParagraphStyle
    left: ParagraphStyle
    right: ParagraphStyle
    vertical: ParagraphStyle
    resume: ParagraphStyle
    footer: ParagraphStyle

    @classmethod
    def make(cls, font: str) -> _Styles:
        base = ParagraphStyle("af", fontName=font, fontSize=VALUE_SIZE, leading=VALUE_SIZE * 1.3, wordWrap="CJK")
        return cls(
            title=ParagraphStyle("af-title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER),
            label=ParagraphStyle("af-label", parent=base, fontSize=LABEL_SIZE, alignment=TA_CENTER),
            center=ParagraphStyle("af-center", parent=base, alignment=TA_CENTER),
            left=ParagraphStyle("af-left", parent=base, alignment=TA_LEFT),
            right=ParagraphStyle("af-right", parent=base, alignment=TA_RIGHT),
            vertical=ParagraphStyle("af-vertical", parent=base, fontSize=12, leading=15, alignment=TA_CENTER),
            resume=ParagraphStyle("af-resume", parent=base, fontSize=RESUME_SIZE, leading=RESUME_SIZE * 1.35),
            footer=ParagraphStyle("af-footer", parent=base, fontSize=LABEL_SIZE, leading=LABEL_SIZE * 1.6),
        )


def _sized(style: ParagraphStyle, size: float) -> ParagraphStyle:
    ratio = style.leading / style.fontSize
    return ParagraphStyle(f"{style.name}-{size:g}", parent=style, fontSize=size, leading=size * ratio)


def _vertical(label: str) -> str:
    """A label written top to bottom, one character a line (简 / 历)."""
    return "<br/><br/>".join(escape(ch) for ch in label)


# ---------------------------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class _Cell:
    """A paragraph cell spanning ``span`` columns; ``foot`` is text held at the cell's bottom right."""

    text: str  # plain text, escaped here
    style: ParagraphStyle
    span: int = 1
    shrink: bool = False  # shrink the font (down to SHRINK_MIN) before the row grows
    top: bool = False  # align to the top instead of the middle
    foot: str = ""
    markup: bool = False  # ``text`` is already Paragraph markup


@dataclass
class _Placed:
    col: int
    span: int
    para: Flowable | None
    para_height: float
    foot: Paragraph | None
    foot_height: float
    top: bool


@dataclass
class _Grid:
    """Rows of cells over fixed columns, measured here so a page can be filled exactly and nothing overflows.

    A text too tall for one piece (a pathological 任免理由) is cut between its lines into several rows with no
    rule between them: ReportLab breaks a table only between rows, and its in-row splitting is unreliable.
    """

    cols: Sequence[float]
    font: str
    open_cols: int = 0  # this many leading columns have no rules between rows (a label column continued)
    rows: list[list[_Placed]] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    joined: set[int] = field(default_factory=set)  # rows with no rule below them
    extra: list[tuple[Any, ...]] = field(default_factory=list)  # rowspans and the photo

    def add(self, cells: Sequence[_Cell], min_height: float) -> int:
        """Append one row (more when a text must be cut); returns the index of its first row."""
        measured: list[tuple[_Cell, int, list[Flowable], list[float], Paragraph | None, float]] = []
        col = 0
        for cell in cells:
            inner = sum(self.cols[col : col + cell.span]) - 2 * PAD_X
            markup = cell.text if cell.markup else _text(cell.text)
            foot = Paragraph(_text(cell.foot), _foot_style(cell.style)) if cell.foot else None
            foot_height = foot.wrap(inner, BIG)[1] if foot else 0.0
            room = min_height - 2 * PAD_Y - foot_height
            fitted = _fit(markup, cell.style, inner, room if cell.shrink else BIG)
            pieces = _pieces(fitted, inner, PIECE_HEIGHT)
            measured.append((cell, col, pieces, [p.wrap(inner, BIG)[1] for p in pieces], foot, foot_height))
            col += cell.span
        if col != len(self.cols):
            raise ValueError(f"row covers {col} of {len(self.cols)} columns")

        first = len(self.rows)
        count = max(len(pieces) for _, _, pieces, _, _, _ in measured)
        for index in range(count):
            last = index == count - 1
            placed: list[_Placed] = []
            need = min_height if index == 0 else 0.0
            for cell, start, pieces, heights, foot, foot_height in measured:
                para = pieces[index] if index < len(pieces) else None
                para_height = heights[index] if para is not None else 0.0
                below = foot if last else None
                below_height = foot_height if last else 0.0
                need = max(need, para_height + below_height + 2 * PAD_Y + (2 * mm if below else 0))
                top = cell.top or bool(foot) or count > 1
                placed.append(_Placed(start, cell.span, para, para_height, below, below_height, top))
            self.rows.append(placed)
            self.heights.append(need)
            if not last:
                self.joined.add(len(self.rows) - 1)
        return first

    def total(self) -> float:
        return sum(self.heights)

    def table(self) -> Table:
        data: list[list[Any]] = []
        commands: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),  # empty cells too, else ReportLab names Helvetica
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), PAD_Y),
            ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_Y),
        ]
        # Rules: ReportLab leaves out the parts inside spanned cells.
        commands += [("LINEAFTER", (c, 0), (c, -1), LINE, colors.black) for c in range(len(self.cols) - 1)]
        commands += [
            ("LINEBELOW", (self.open_cols, r), (-1, r), LINE, colors.black)
            for r in range(len(self.rows) - 1)
            if r not in self.joined
        ]
        commands.append(("BOX", (0, 0), (-1, -1), BORDER, colors.black))
        for r, (placed, height) in enumerate(zip(self.rows, self.heights, strict=True)):
            row: list[Any] = [""] * len(self.cols)
            for p in placed:
                content: list[Flowable] = [p.para] if p.para is not None else []
                if p.foot is not None:
                    gap = max(0.0, height - 2 * PAD_Y - p.para_height - p.foot_height)
                    content += [Spacer(1, gap), p.foot]
                row[p.col] = content[0] if len(content) == 1 else content or ""
                if p.span > 1:
                    commands.append(("SPAN", (p.col, r), (p.col + p.span - 1, r)))
                if p.top:
                    commands.append(("VALIGN", (p.col, r), (p.col, r), "TOP"))
            data.append(row)
        for command in self.extra:
            if command[0] == "PUT":
                _, col, r, content = command
                data[r][col] = content
            else:
                commands.append(command)
        return Table(data, colWidths=list(self.cols), rowHeights=list(self.heights), style=TableStyle(commands))

    def spannable(self, row: int, most: int) -> int:
        """How many rows from ``row`` (up to ``most``, at least one) a label may span: no more than half a page,
        since ReportLab never breaks a table inside a row span."""
        count, height = 0, 0.0
        while count < most and row + count < len(self.heights):
            height += self.heights[row + count]
            if height > FRAME_HEIGHT / 2:
                break
            count += 1
        return max(1, count)

    def put(self, col: int, row: int, content: Any, *, rows: int = 1, valign: str = "MIDDLE") -> None:
        """Place ``content`` spanning ``rows`` rows from ``row`` (its height is not measured)."""
        self.extra.append(("PUT", col, row, content))
        if rows > 1:
            self.extra.append(("SPAN", (col, row), (col, row + rows - 1)))
        self.extra.append(("VALIGN", (col, row), (col, row), valign))


def _pieces(para: Flowable, width: float, limit: float) -> list[Flowable]:
    """``para`` cut between its lines into pieces no taller than ``limit``."""
    pieces: list[Flowable] = []
    while para.wrap(width, BIG)[1] > limit:
        parts = para.split(width, limit)
        if len(parts) < 2:
            break
        pieces.append(parts[0])
        para = parts[1]
    pieces.append(para)
    return pieces


def _foot_style(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-foot", parent=style, alignment=TA_RIGHT)


def _fit(markup: str, style: ParagraphStyle, width: float, height: float) -> Paragraph:
    """The paragraph at the largest size (down to SHRINK_MIN) that fits ``height``; the smallest otherwise."""
    size = style.fontSize
    while True:
        para = Paragraph(markup, _sized(style, size))
        if para.wrap(width, BIG)[1] <= height or size <= SHRINK_MIN:
            return para
        size = max(SHRINK_MIN, size - 0.5)


def _label(text: str, st: _Styles, span: int = 1) -> _Cell:
    return _Cell(text, st.label, span)


def _value(text: str, st: _Styles, span: int = 1) -> _Cell:
    return _Cell(text, st.center, span, shrink=True)


# ---------------------------------------------------------------------------------------------- page 1


def _particulars(form: ApprovalForm, st: _Styles) -> _Grid:
    grid = _Grid(P1_COLS, st.label.fontName)
    grid.add(
        [
            _label("姓名", st),
            _value(form.name, st),
            _label("性别", st),
            _value(form.sex, st),
            _Cell("出生年月<br/>（\u3000\u3000岁）", st.label, markup=True),
            _value(birth_with_age(form.birth, form.age_reference_date), st),
            _label("", st),
        ],
        HEAD_ROW,
    )
    grid.add(
        [
            _label("民族", st),
            _value(form.ethnicity, st),
            _label("籍贯", st),
            _value(form.native_place, st),
            _label("出生地", st),
            _value(form.birthplace, st),
            _label("", st),
        ],
        HEAD_ROW,
    )
    grid.add(
        [
            _label("入党时间", st),
            _value(party_join(form.party_join), st),
            _label("参加工作时间", st),
            _value(month(form.work_start), st),
            _label("健康状况", st),
            _value(form.health, st),
            _label("", st),
        ],
        HEAD_ROW,
    )
    grid.add(
        [
            _label("专业技术职务", st),
            _value(form.professional_title, st, span=2),
            _label("熟悉专业有何专长", st),
            _value(form.expertise, st, span=2),
            _label("", st),
        ],
        HEAD_ROW,
    )
    rows = grid.spannable(0, len(grid.rows))
    photo = _photo(form.photo, P1_COLS[6] - 2 * PAD_X, sum(grid.heights[:rows]) - 2 * PAD_Y, st)
    grid.put(6, 0, photo, rows=rows)
    education_row = len(grid.rows)

    for kind, education, degree, school, degree_school in (
        (
            "全日制<br/>教育",
            form.fulltime_education,
            form.fulltime_degree,
            form.fulltime_education_school,
            form.fulltime_degree_school,
        ),
        (
            "在职<br/>教育",
            form.inservice_education,
            form.inservice_degree,
            form.inservice_education_school,
            form.inservice_degree_school,
        ),
    ):
        grid.add(
            [
                _label("", st),
                _Cell(kind, st.label, markup=True),
                _value(_lines(education, degree), st, span=2),
                _Cell("毕业院校<br/>系及专业", st.label, markup=True),
                _Cell(_schools(school, degree_school), st.left, span=2, shrink=True),
            ],
            EDU_ROW,
        )
    degrees = Paragraph("学历<br/>学位", st.label)
    grid.put(0, education_row, degrees, rows=grid.spannable(education_row, len(grid.rows) - education_row))

    for label, value in (
        ("现任职务", form.current_post),
        ("拟任职务", form.proposed_post),
        ("拟免职务", form.post_to_remove),
    ):
        grid.add([_label(label, st, span=2), _Cell(value, st.left, span=5, shrink=True)], POST_ROW)
    return grid


def _photo(data: bytes, width: float, height: float, st: _Styles) -> Flowable:
    """The photo scaled to fit, keeping its aspect; the word 照片 when there is none or it cannot be read."""
    if data:
        try:
            reader = ImageReader(io.BytesIO(data))
            image_width, image_height = reader.getSize()
            reader.getRGBData()  # decode it all now: a damaged file must fall back here, not fail mid-build
        except Exception:  # ReportLab/Pillow raise many kinds for a bad image; the form is still printable
            pass
        else:
            if image_width > 0 and image_height > 0:
                scale = min(width / image_width, height / image_height)
                return Image(io.BytesIO(data), width=image_width * scale, height=image_height * scale)
    return Paragraph("照片", st.label)


_RESUME_PREFIX = re.compile(r"^(\s*(?:\d{4}\.\d{1,2}\s*[-—–~～至]+\s*(?:\d{4}\.\d{1,2})?\s*)?)")


def _resume_paragraphs(resume: str, style: ParagraphStyle, width: float) -> list[Paragraph]:
    """One paragraph a line; wrapped lines hang under the text after the ``yyyy.MM--yyyy.MM`` period."""
    lines = resume.replace("\r\n", "\n").replace("\r", "\n").rstrip().split("\n")
    paragraphs: list[Paragraph] = []
    for line in lines if resume.strip() else []:
        line = line.rstrip()
        prefix = _RESUME_PREFIX.match(line)
        indent = stringWidth(prefix.group(1), style.fontName, style.fontSize) if prefix else 0.0
        if indent > 0.4 * width or (prefix and prefix.group(1) == line):
            indent = 0.0
        # Keep the clerk's spaces (the national software aligns the periods with them).
        markup = re.sub(" {2,}", lambda m: "\u00a0" * len(m.group(0)), escape(line)) or "\u00a0"
        line_style = ParagraphStyle(f"{style.name}-line", parent=style, leftIndent=indent, firstLineIndent=-indent)
        paragraphs.append(Paragraph(markup, line_style))
    return paragraphs


def _resume_cell(resume: str, st: _Styles, height: float) -> tuple[list[Flowable], list[Flowable]]:
    """What goes into page 1's 简历 cell and what continues on the attached pages."""
    width = WIDTH - P1_COLS[0] - 2 * PAD_X
    room = height - 2 * PAD_Y
    size = RESUME_SIZE
    while True:
        style = _sized(st.resume, size)
        paragraphs = _resume_paragraphs(resume, style, width)
        heights = [p.wrap(width, BIG)[1] for p in paragraphs]
        if sum(heights) <= room:
            return list(paragraphs), []
        if size <= RESUME_MIN_SIZE:
            break
        size = max(RESUME_MIN_SIZE, size - 0.5)

    note = Paragraph(CONTINUED, _sized(st.right, RESUME_MIN_SIZE))
    room -= note.wrap(width, BIG)[1]
    first: list[Flowable] = []
    for index, (paragraph, h) in enumerate(zip(paragraphs, heights, strict=True)):
        if h <= room:
            first.append(paragraph)
            room -= h
            continue
        parts = paragraph.split(width, room) if room > 0 else []
        if len(parts) == 2:  # the line breaks between its wrapped lines
            first.append(parts[0])
            rest: list[Flowable] = [parts[1]]
        else:
            rest = [paragraph]
        rest.extend(paragraphs[index + 1 :])
        first.append(note)
        return first, rest
    return first, []  # pragma: no cover — the sizes above said it would not fit


def _resume_table(content: list[Flowable], height: float, st: _Styles) -> Table:
    return Table(
        [[Paragraph(_vertical("简历"), st.vertical), content]],
        colWidths=[P1_COLS[0], WIDTH - P1_COLS[0]],
        rowHeights=[height],
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.label.fontName),
                ("GRID", (0, 0), (-1, -1), LINE, colors.black),
                ("BOX", (0, 0), (-1, -1), BORDER, colors.black),
                ("VALIGN", (0, 0), (0, 0), "MIDDLE"),
                ("VALIGN", (1, 0), (1, 0), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
                ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
                ("TOPPADDING", (0, 0), (-1, -1), PAD_Y),
                ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_Y),
            ]
        ),
    )


def _continuation(form: ApprovalForm, rest: list[Flowable], st: _Styles, title: str) -> list[Flowable]:
    """Attached pages 简历（续）: one row a line, so the box breaks between lines across pages."""
    heading = Paragraph("简历（续）", st.title)
    width = WIDTH - 2 * (PAD_X + 2 * mm)
    who = Paragraph(_text(f"{title}　姓名：{form.name}"), st.left)
    table = Table(
        [[piece] for paragraph in rest for piece in _pieces(paragraph, width, PIECE_HEIGHT)],
        colWidths=[WIDTH],
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.label.fontName),
                ("BOX", (0, 0), (-1, -1), BORDER, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), PAD_X + 2 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X + 2 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, 0), PAD_Y + 2 * mm),
                ("BOTTOMPADDING", (0, -1), (-1, -1), PAD_Y + 2 * mm),
            ]
        ),
    )
    return [heading, Spacer(1, 2 * mm), who, Spacer(1, 2 * mm), table]


# ---------------------------------------------------------------------------------------------- page 2


def _back_page(form: ApprovalForm, st: _Styles) -> list[Flowable]:
    text_cell = ParagraphStyle("af-text", parent=st.left)

    upper = _Grid(P2_COLS, st.label.fontName)
    rewards = upper.add(
        [_Cell("奖惩<br/>情况", st.label, markup=True), _Cell(form.rewards_punishments, text_cell, 5, top=True)],
        38 * mm,
    )
    appraisals = upper.add(
        [_Cell("年度考核<br/>结果", st.label, markup=True), _Cell(form.annual_appraisals, text_cell, 5, top=True)],
        20 * mm,
    )
    reason = upper.add(
        [_Cell("任免<br/>理由", st.label, markup=True), _Cell(form.appointment_reason, text_cell, 5, top=True)],
        30 * mm,
    )

    family = _family(form.family, st)

    lower = _Grid(P2_COLS, st.label.fontName)
    lower.add(
        [
            _Cell("呈报<br/>单位", st.label, markup=True),
            _Cell(form.submitting_unit, st.left, 5, top=True, foot=DATE_LINE),
        ],
        26 * mm,
    )
    stamp = f"（盖章）\n{DATE_LINE}"
    lower.add(
        [
            _Cell("审批<br/>机关<br/>意见", st.label, markup=True),
            _Cell("", st.right, 3, foot=stamp),
            _Cell("行政机关<br/>任免意见", st.label, markup=True),
            _Cell("", st.right, 1, foot=stamp),
        ],
        40 * mm,
    )

    footer = Paragraph(
        _text(f"填表人：{form.filled_by.strip()}") + "\u3000" * 6 + _text(f"填表时间：{day(form.filled_on)}"),
        st.footer,
    )
    footer_height = footer.wrap(WIDTH, BIG)[1] + 2 * mm

    # Fill the page as the printed form does; a crowded page simply flows on.
    spare = FRAME_HEIGHT - SAFETY - footer_height - upper.total() - family.total() - lower.total()
    if spare > 0:
        for row, share in ((rewards, 0.45), (appraisals, 0.2), (reason, 0.35)):
            upper.heights[row] += spare * share
    return [upper.table(), family.table(), lower.table(), Spacer(1, 2 * mm), footer]


def _family(rows: Sequence[FamilyRow], st: _Styles) -> _Grid:
    grid = _Grid(P2_COLS, st.label.fontName, open_cols=1)
    grid.add(
        [
            _label("", st),
            _label("称谓", st),
            _label("姓名", st),
            _label("出生年月", st),
            _label("政治面貌", st),
            _label("工作单位及职务", st),
        ],
        FAMILY_ROW,
    )
    members = list(rows) + [FamilyRow()] * max(0, FAMILY_MIN_ROWS - len(rows))
    for member in members:
        grid.add(
            [
                _label("", st),
                _value(member.relation, st),
                _value(member.name, st),
                _value(month(member.birth), st),
                _value(member.political_status, st),
                _Cell(member.work_unit_position, st.left, shrink=True),
            ],
            FAMILY_ROW,
        )
    # The label spans the header and the first seven rows only (fewer when they are very tall), so a longer
    # list can still break across pages after them: ReportLab never splits a table inside a row span.
    grid.put(0, 0, Paragraph("家庭主要成员及重要社会关系", st.label), rows=grid.spannable(0, FAMILY_MIN_ROWS + 1))
    return grid
