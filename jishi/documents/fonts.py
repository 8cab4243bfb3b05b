"""The CJK font embedded in every generated PDF.

Order: the path in ``settings.PDF_CJK_FONT`` (JISHI_PDF_FONT), then well-known system fonts (Debian's
fonts-wqy-microhei, fonts-noto-cjk, fonts-wqy-zenhei, fonts-arphic). When neither exists the renderers
refuse with a clear message instead of falling back to a non-embedded font: a PDF whose Chinese text
depends on the reader's fonts is not fit to be archived (see docs/documents.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from jishi.core.exceptions import ApplicationError

FONT_NAME = "JishiCJK"
FONT_BOLD = "JishiCJK"  # one weight is enough for forms; headings use size, not weight

# (path, subfont index within a TTC)
SYSTEM_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
)

MISSING = (
    "未找到可嵌入的中文字体，无法生成 PDF。请安装 fonts-wqy-microhei（或 fonts-noto-cjk），"
    "或在环境变量 JISHI_PDF_FONT 中指定一个 TTF/TTC 字体文件的路径。"
)


def font_candidates() -> list[tuple[Path, int]]:
    configured = str(getattr(settings, "PDF_CJK_FONT", "") or "")
    found: list[tuple[Path, int]] = []
    if configured:
        path, _, index = configured.partition("#")
        found.append((Path(path), int(index or 0)))
    found.extend((Path(path), index) for path, index in SYSTEM_FONTS)
    return found


def find_font() -> tuple[Path, int] | None:
    for path, index in font_candidates():
        if path.is_file():
            return path, index
    return None


@cache
def _register(path: str, index: int) -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
    return FONT_NAME


def cjk_font() -> str:
    """Register the CJK font with ReportLab once and return its name; refuse when there is none."""
    found = find_font()
    if found is None:
        raise ApplicationError(MISSING, code="no_cjk_font")
    path, index = found
    try:
        return _register(str(path), index)
    except Exception as exc:  # a damaged or non-TrueType file named in the setting
        raise ApplicationError(f"字体文件 {path} 无法使用：{exc}", code="bad_cjk_font") from exc
