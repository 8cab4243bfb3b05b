"""Shared ReportLab pieces for generated documents: CJK paragraph styles, escaping, "第 N 页 共 M 页"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .fonts import cjk_font


def styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    base = ParagraphStyle("body", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=2 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9.5, alignment=TA_CENTER, spaceAfter=4 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "label": ParagraphStyle("label", parent=base, alignment=TA_CENTER),
    }


def text(value: object) -> str:
    """Escape a value for a ReportLab Paragraph (its mini-markup), keeping line breaks."""
    return escape(str(value if value is not None else "")).replace("\n", "<br/>")


def numbered_canvas(
    header: str,
    footer: str,
    pagesize: tuple[float, float] = A4,
    margin: float = 18 * mm,
    rows: tuple[float, float] = (12 * mm, 10 * mm),
) -> Callable[..., Canvas]:
    """A canvas class that writes the header and "第 N 页 共 M 页" once the page count is known.

    ``rows``: distance of the header from the top edge and of the footer from the bottom edge.
    """

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Otherwise every page starts in Helvetica, a font that is referenced but not embedded.
            kwargs.setdefault("initialFontName", cjk_font())
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._saved.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = pagesize
            self.saveState()
            self.setFont(cjk_font(), 8)
            if header:
                self.drawString(margin, height - rows[0], header)
            self.drawRightString(width - margin, rows[1], f"第 {self.getPageNumber()} 页 共 {total} 页")
            if footer:
                self.drawString(margin, rows[1], footer)
            self.restoreState()

    return NumberedCanvas
