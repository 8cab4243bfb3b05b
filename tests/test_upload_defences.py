"""Upload and package-import defences: every ZIP (DOCX, XLSX, OFD material) passes jishi.core.safe_zip before it is
kept — bombs, zip slip, symbolic links, nested archives, macro documents in disguise are refused with a Chinese
sentence, and nothing is stored (no file, no row, no ledger event). The upload limits are set on purpose."""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from jishi.core import safe_zip
from jishi.core.exceptions import ApplicationError
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, Material, StepRecord

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"


def _types(part: str, content_type: str) -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'>"
        "<Default Extension='xml' ContentType='application/xml'/>"
        f"<Override PartName='/{part}' ContentType='{content_type}'/></Types>"
    )


def _archive(members: dict[str, bytes | str], *, deflate: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data) if name.endswith("/") else z.writestr(name, data)
    return buf.getvalue()


def docx(**extra: bytes | str) -> bytes:
    return _archive({"[Content_Types].xml": _types("word/document.xml", WORD), "word/document.xml": "<w/>", **extra})


def xlsx(**extra: bytes | str) -> bytes:
    return _archive({"[Content_Types].xml": _types("xl/workbook.xml", EXCEL), "xl/workbook.xml": "<wb/>", **extra})


def _raw_docx_with(info: zipfile.ZipInfo, data: bytes = b"x") -> bytes:
    """A Word document plus one member written with a hand-made header (names zipfile would not produce)."""
    buf = io.BytesIO(docx())
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr(info, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    _ = target
    return info


def ratio_bomb() -> bytes:
    """42.zip-style: a few megabytes of zeros deflate to a few kilobytes (ratio ≈ 1000)."""
    return docx(**{"word/media/image1.bin": b"\0" * (6 * MB)})


def size_bomb() -> bytes:
    """Each member looks harmless, together they pass the limit (tests use a 10 MB limit): 4 × 3 MB stored."""
    members = {"[Content_Types].xml": _types("word/document.xml", WORD), "word/document.xml": "<w/>"}
    return _archive({**members, **{f"word/media/part{i}.bin": bytes(3 * MB) for i in range(4)}}, deflate=False)


def nested_bomb() -> bytes:
    inner = _archive({f"{i}.txt": b"\0" * 1024 for i in range(16)})
    return docx(**{f"word/media/layer{i}.zip": inner for i in range(4)})


def too_many_entries() -> bytes:
    return docx(**{f"word/media/{i}.xml": "" for i in range(10_001)})


HOSTILE = {
    "ratio-bomb": (ratio_bomb, "压缩比", "zip_bomb"),
    "size-bomb": (size_bomb, "解压后超过", "zip_bomb"),
    "nested-archives": (nested_bomb, "其他压缩包", "zip_nested"),
    "too-many-entries": (too_many_entries, "文件过多", "zip_bomb"),
    "dot-dot": (lambda: _raw_docx_with(zipfile.ZipInfo("../../evil")), "路径不安全（含“..”）", "zip_slip"),
    "nested-dot-dot": (lambda: _raw_docx_with(zipfile.ZipInfo("word/../../evil.sh")), "含“..”", "zip_slip"),
    "absolute": (lambda: _raw_docx_with(zipfile.ZipInfo("/etc/passwd")), "绝对路径", "zip_slip"),
    "backslash": (lambda: _raw_docx_with(zipfile.ZipInfo("word\\..\\..\\evil")), "反斜杠", "zip_slip"),
    "drive-letter": (lambda: _raw_docx_with(zipfile.ZipInfo("C:evil.bat")), "盘符", "zip_slip"),
    "symlink": (
        lambda: _raw_docx_with(_symlink("word/media/link", "/etc/passwd"), b"/etc/passwd"),
        "符号链接",
        "zip_symlink",
    ),
    "duplicate": (lambda: _raw_docx_with(zipfile.ZipInfo("word/document.xml"), b"<evil/>"), "重名", "zip_duplicate"),
    "macro-document-renamed": (
        lambda: _archive({"[Content_Types].xml": _types("word/document.xml", DOCM), "word/document.xml": "<w/>"}),
        "含宏",
        "zip_type",
    ),
    "vba-project": (lambda: docx(**{"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "宏", "zip_macro"),
    "no-content-types": (lambda: _archive({"word/document.xml": "<w/>"}), "不是普通的 Word/Excel", "zip_type"),
    "hostile-content-types": (
        lambda: _archive(
            {
                "[Content_Types].xml": '<!DOCTYPE t [<!ENTITY x "boom">]><Types>&x;</Types>',
                "word/document.xml": "<w/>",
            }
        ),
        "不是格式正确的 XML",
        "zip_type",
    ),
}
LIMITS = safe_zip.ZipLimits(max_total_bytes=10 * MB)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the duplicate-name archive is built on purpose
@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_archive_is_refused_before_anything_is_extracted(case: str):
    build, message, code = HOSTILE[case]
    with pytest.raises(safe_zip.UnsafeZip) as refused:
        safe_zip.inspect(io.BytesIO(build()), limits=LIMITS)
    assert message in refused.value.message and refused.value.code == code
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message)  # a Chinese sentence for the user


def test_real_office_containers_pass_with_their_type_including_a_chart_workbook_embedded_in_word():
    assert safe_zip.inspect(io.BytesIO(docx())) == "docx"
    assert safe_zip.inspect(io.BytesIO(xlsx())) == "xlsx"
    assert safe_zip.inspect(io.BytesIO(_archive({"OFD.xml": "<ofd:OFD/>", "Doc_0/Document.xml": "<d/>"}))) == "ofd"
    chart = docx(**{"word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(), "word/media/image1.png": b"\x89PNG"})
    assert safe_zip.inspect(io.BytesIO(chart)) == "docx"
    # …but an embedded workbook may not carry yet another archive, nor may one sit outside embeddings/.
    deeper = docx(**{"word/embeddings/book.xlsx": xlsx(**{"xl/embeddings/inner.docx": docx()})})
    with pytest.raises(safe_zip.UnsafeZip, match="其他压缩包"):
        safe_zip.inspect(io.BytesIO(deeper))
    with pytest.raises(safe_zip.UnsafeZip, match="其他压缩包"):
        safe_zip.inspect(io.BytesIO(docx(**{"word/media/book.xlsx": xlsx()})))


def test_small_members_may_compress_well_and_the_limits_come_from_the_settings(settings):
    assert safe_zip.inspect(io.BytesIO(docx(**{"word/styles.xml": " " * 500_000}))) == "docx"
    settings.ZIP_MAX_ENTRIES = 3
    from jishi.selection.materials import zip_limits

    assert zip_limits().max_entries == 3 and zip_limits().max_ratio == django_settings.ZIP_MAX_RATIO


@pytest.fixture
def record(world: World, batch: Batch) -> StepRecord:
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


def _stored_files() -> list[Path]:
    return [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "case", ["ratio-bomb", "nested-archives", "dot-dot", "absolute", "symlink", "too-many-entries"]
)
def test_a_hostile_material_upload_is_refused_in_chinese_and_nothing_is_stored(
    world: World, record: StepRecord, settings, case: str
):
    build, message, code = HOSTILE[case]
    events, materials, files = Event.objects.count(), Material.objects.count(), _stored_files()
    with pytest.raises(ApplicationError) as refused:
        services.material_register(
            actor=world.alice,
            record=record,
            item_id="I01",
            title="谈话记录",
            upload=SimpleUploadedFile("谈话记录.docx", build()),
        )
    assert refused.value.message.startswith("文件未接收：") and message in refused.value.message
    assert refused.value.code == code
    assert (Event.objects.count(), Material.objects.count(), _stored_files()) == (events, materials, files)


def test_a_real_word_document_is_still_accepted(world: World, record: StepRecord):
    material = services.material_register(
        actor=world.alice,
        record=record,
        item_id="I01",
        title="谈话记录",
        upload=SimpleUploadedFile("记录.docx", docx()),
    )
    assert material.kind == "docx" and Event.objects.filter(action="material.register").exists()


def test_the_upload_size_limits_are_set_deliberately():
    s = django_settings
    assert s.MATERIAL_MAX_BYTES == 20 * MB
    # Form fields beside the file (file data is not counted) stay far below the material limit plus a margin.
    assert s.DATA_UPLOAD_MAX_MEMORY_SIZE <= s.MATERIAL_MAX_BYTES + 2 * MB
    assert 0 < s.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 1000 and 0 < s.DATA_UPLOAD_MAX_NUMBER_FILES <= 10
    assert s.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2621440  # larger uploads spool to a temporary file, not memory
    assert s.LRMX_MAX_BYTES <= 5 * MB
    assert s.ZIP_MAX_UNCOMPRESSED_BYTES <= 200 * MB and s.ZIP_MAX_ENTRIES <= 10_000 and s.ZIP_MAX_RATIO <= 100
    # nginx lets a full material through (else it answers 413 before Django's Chinese message) but not much more.
    nginx = (ROOT / "deploy" / "nginx" / "jishi.conf").read_text(encoding="utf-8")
    body = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1)) * MB  # type: ignore[union-attr]
    assert s.MATERIAL_MAX_BYTES < body <= s.MATERIAL_MAX_BYTES + 10 * MB


# ---- XML only through defusedxml -------------------------------------------------------------------------------
XML_MODULES = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "lxml", "xmlrpc")
# Names that build or escape XML, or are exception classes: safe to take from the standard library.
XML_WRITER_NAMES = {"Element", "SubElement", "tostring", "indent", "ParseError", "escape", "quoteattr"}
XML_PARSERS = {"fromstring", "fromstringlist", "parse", "iterparse", "XML", "XMLID", "XMLParser", "XMLPullParser"}
# Modules that import a standard XML module whole, with the reason; their alias is checked for parser calls.
XML_WRITERS = {
    "jishi/cadres/lrmx.py": "builds .lrmx files for export; parsing is defusedxml's (SafeET.fromstring)",
    "jishi/archives/package.py": "writes the archive package's metadata.xml; never parses",
}


def _xml_use_problems(rel: str, source: str) -> list[str]:
    import ast

    problems, aliases = [], set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(XML_MODULES) or alias.name == "xml":
                    if rel not in XML_WRITERS:
                        problems.append(f"{rel}: import {alias.name}")
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith((*XML_MODULES, "xml")):
            for alias in node.names:
                if alias.name not in XML_WRITER_NAMES:
                    problems.append(f"{rel}: from {node.module} import {alias.name}")
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in XML_PARSERS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            problems.append(f"{rel}: {node.value.id}.{node.attr} parses with the standard library")
    return problems


def test_xml_is_parsed_only_through_defusedxml():
    problems = []
    for path in sorted((ROOT / "jishi").rglob("*.py")):
        problems += _xml_use_problems(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "import xml.etree.ElementTree as ET\n",
        "from xml.dom import minidom\n",
        "from lxml import etree\n",
        "import xmlrpc.client\n",
        "from xml.etree.ElementTree import fromstring\n",
    ],
)
def test_the_xml_scan_finds_a_standard_library_parser(source: str):
    assert _xml_use_problems("jishi/new_module.py", source)
    assert _xml_use_problems("jishi/cadres/lrmx.py", "import xml.etree.ElementTree as ET\nET.fromstring(b'<x/>')\n")


@pytest.mark.parametrize("case", ["ratio-bomb", "symlink", "nested-archives"])
def test_the_archive_verifier_applies_the_same_zip_checks(tmp_path: Path, case: str):
    from jishi.verify.files import Limits
    from jishi.verify.formats import open_problem

    build, message, _ = HOSTILE[case]
    (tmp_path / "doc.docx").write_bytes(build())
    (tmp_path / "good.docx").write_bytes(docx())
    assert open_problem(str(tmp_path), "good.docx", "DOCX", Limits()) is None
    assert message in (open_problem(str(tmp_path), "doc.docx", "DOCX", Limits()) or "")
