"""参考模本: every item names what it must contain; blank Word/PDF templates; the list, downloads and step page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import include, path, reverse
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from jishi import urls as project_urls
from jishi.core.testing import World
from jishi.documents.reference_templates import blank_template_docx, blank_template_pdf, reference_template
from jishi.procedures.loader import DefinitionInvalid, bundled_path, load_file, parse_text
from jishi.procedures.models import ProcedureVersion
from jishi.procedures.schema import ProcedureDefinition
from jishi.procedures.services import procedure_version_register
from jishi.selection.models import Batch
from jishi.selection.services import step_start

# This module is its own URLconf: the project's URLs plus the template URLs under documents/ (the project
# includes them there too; a duplicate include is harmless, the first match wins).
urlpatterns = [path("documents/", include("jishi.documents.urls_templates")), *project_urls.urlpatterns]
pytestmark = pytest.mark.urls(__name__)

STANDARD_PATH = bundled_path("standard")
STANDARD = STANDARD_PATH.read_text(encoding="utf-8")
I01_CONTENTS = (
    "            contents: [听取意见时间, 地点, 意见提供人及职务, 听取方式（会议或个别听取）, 意见要点, 意见提供人签字]"
)


@pytest.fixture(scope="module")
def standard() -> ProcedureDefinition:
    return load_file(STANDARD_PATH).definition


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _line_of(text: str, needle: str) -> int:
    [number] = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


# ── contents in the definition ────────────────────────────────────────────────────────────────


def test_every_item_of_the_standard_procedure_names_three_to_ten_things_it_must_contain(standard):
    items = standard.items()
    assert len(items) == 36
    for item in items:
        assert 3 <= len(item.contents) <= 10, f"{item.id} {item.name}: {item.contents}"
        assert all(element.strip() == element and element for element in item.contents), item.id


def test_the_contents_follow_the_requirement_texts(standard):
    by_id = {item.id: item for item in standard.items()}
    assert by_id["I01"].contents[:2] == ("听取意见时间", "地点")
    assert "意见要点" in by_id["I01"].contents
    assert "逐人表决情况（同意、不同意、缓议）" in by_id["I29"].contents
    assert "公示起止日期（不少于五个工作日）" in by_id["I32"].contents


def test_procedure_check_refuses_an_item_without_contents_and_names_the_item_and_its_line(tmp_path: Path, capsys):
    text = STANDARD.replace(I01_CONTENTS + "\n", "", 1)
    assert text != STANDARD
    bad = tmp_path / "no_contents.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match="流程定义文件有 1 处错误"):
        call_command("procedure", "check", str(bad), stdout=io.StringIO())
    err = capsys.readouterr().err
    assert f"第 {_line_of(text, '- id: I01')} 行（stages.0.steps.0.items.0）" in err
    assert "纪实项目 I01 未列出应包含的内容（contents）" in err


def test_the_loader_refuses_a_blank_or_repeated_content_element_at_the_items_line():
    text = STANDARD.replace(I01_CONTENTS, I01_CONTENTS.replace("地点", "听取意见时间"), 1)
    with pytest.raises(DefinitionInvalid) as caught:
        parse_text(text)
    [error] = caught.value.errors
    assert error.message == "纪实项目 I01: 应包含的内容（contents）重复：听取意见时间"
    assert error.line == _line_of(text, "- id: I01")


def test_a_definition_that_lists_no_contents_at_all_still_loads_so_stored_versions_keep_working():
    text = re.sub(r"\n +contents: \[.*\]", "", STANDARD)
    assert "contents:" not in text.split("\ncode:")[1]
    definition = parse_text(text).definition
    assert all(item.contents == () for item in definition.items())


# ── the documents ─────────────────────────────────────────────────────────────────────────────


def test_the_word_template_names_the_item_its_place_every_content_element_and_the_signatures(standard):
    document = Document(io.BytesIO(blank_template_docx(standard, "I06")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:2] == ["初步人选廉政意见征询及回复", "参考模本"]
    assert "所属环节：动议（第1环节）" in paragraphs
    assert "操作步骤：D06 初步人选征求纪检监察机关意见（人选级）" in paragraphs
    assert any(p.startswith("D06-1\u3000以征求意见函（附初步人选名单）") for p in paragraphs)
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["应包含的内容", "记录（填写）"]
    assert rows[1:] == [[element, ""] for element in standard.items()[5].contents]
    assert all(round(row.height.mm) >= 18 for row in table.rows[1:])  # tall enough to write in
    signatures = [p for p in paragraphs if "（签字）：" in p]
    assert [s.split("（签字）")[0] for s in signatures] == ["经办人", "纪检监察"]
    assert all("日期：" in s for s in signatures)
    assert "另需签字：纪检监察机关负责人在回复意见上签批（纸质原件）。" in paragraphs
    footer = document.sections[0].footer.paragraphs[0].text
    assert footer == f"本模本由纪实系统根据流程定义 standard {standard.version} 生成"


def test_the_word_template_is_a4_and_names_a_chinese_font_for_east_asian_text(standard):
    document = Document(io.BytesIO(blank_template_docx(standard, "I01")))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4, stored in twips
    fonts = document.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    assert fonts.get(qn("w:eastAsiaTheme")) is None
    assert document.core_properties.title == "听取党委（党组）意见记录（参考模本）"


def test_an_item_continued_in_later_steps_lists_them_and_their_requirements(standard):
    text = _docx_text(blank_template_docx(standard, "I30"))
    assert (
        "续记步骤：J03 逐个介绍、充分讨论、主要负责人最后表态；J04 逐个表决、形成决定；J05 形成纪要；报批/备案" in text
    )
    for requirement_id in ("J02-1", "J02-2", "J03-1", "J03-2", "J04-1", "J05-1"):
        assert f"{requirement_id}\u3000" in text


def test_every_item_of_the_standard_procedure_gets_both_templates(standard):
    for item in standard.items():
        assert item.name in _docx_text(blank_template_docx(standard, item.id))
    # The PDF is slower (font subsetting); a sample of each kind is enough here.
    for item_id in ("I01", "I04", "I28", "I36"):
        assert blank_template_pdf(standard, item_id).startswith(b"%PDF-")


def test_the_pdf_template_carries_the_item_name_its_contents_and_the_signature_lines(standard):
    item = next(i for i in standard.items() if i.id == "I30")
    text = _pdf_text(blank_template_pdf(standard, "I30"))
    assert item.name in text and "参考模本" in text
    for element in item.contents:
        assert re.sub(r"\s+", "", element) in text, element
    assert "经办人（签字）：" in text
    assert f"本模本由纪实系统根据流程定义standard{standard.version}生成" in text


def test_an_unknown_item_has_no_template(standard):
    with pytest.raises(KeyError):
        reference_template(standard, "I99")


def test_the_file_name_keeps_the_chinese_name_but_no_path_separators(standard):
    assert (
        reference_template(standard, "I08").filename("docx")
        == "I08-酝酿记录_通气材料（主要领导、书记专题会）-参考模本.docx"
    )


# ── pages and downloads ───────────────────────────────────────────────────────────────────────


def test_the_list_page_shows_every_item_grouped_by_stage_with_contents_and_links(world: World, standard):
    version = ProcedureVersion.objects.get(code="standard")
    response = _client(world.alice).get(reverse("reference_template_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('<tr id="item-') == 36
    assert body.index("1. 动议") < body.index("I01 听取党委（党组）意见记录") < body.index("2. 民主推荐")
    assert "<li>意见提供人及职务</li>" in body
    assert reverse("reference_template_version_docx", args=[version.pk, "I36"]) in body
    assert reverse("reference_template_version_pdf", args=[version.pk, "I36"]) in body


def test_alice_downloads_the_word_template_with_a_utf8_file_name(world: World):
    response = _client(world.alice).get(reverse("reference_template_docx", args=["standard", "I01"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert unquote(disposition.split("''", 1)[1]) == "I01-听取党委（党组）意见记录-参考模本.docx"
    assert "听取党委（党组）意见记录" in _docx_text(response.content)


def test_alice_downloads_the_pdf_template(world: World):
    response = _client(world.alice).get(reverse("reference_template_pdf", args=["standard", "I35"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "任职谈话记录" in _pdf_text(response.content)
    assert unquote(response["Content-Disposition"].split("''", 1)[1]) == "I35-任职谈话记录-参考模本.pdf"


def test_an_unknown_item_or_procedure_is_a_404(world: World):
    client = _client(world.alice)
    assert client.get(reverse("reference_template_docx", args=["standard", "I99"])).status_code == 404
    assert client.get(reverse("reference_template_pdf", args=["nosuch", "I01"])).status_code == 404
    assert client.get(reverse("reference_template_version_pdf", args=[999999, "I01"])).status_code == 404


def test_a_county_clerk_may_download_too_because_templates_hold_no_personal_data(world: World):
    response = _client(world.grace).get(reverse("reference_template_pdf", args=["standard", "I01"]))
    assert response.status_code == 200


def test_oscar_without_a_role_is_refused_and_a_visitor_is_sent_to_login(world: World):
    assert _client(world.oscar).get(reverse("reference_template_list")).status_code == 403
    assert _client(world.oscar).get(reverse("reference_template_docx", args=["standard", "I01"])).status_code == 403
    response = Client().get(reverse("reference_template_docx", args=["standard", "I01"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ── the step page ─────────────────────────────────────────────────────────────────────────────


def test_the_step_page_shows_what_the_item_must_contain_and_links_its_templates(world: World, batch: Batch):
    step_start(actor=world.alice, batch=batch, step_id="D01", nomination=None)
    body = _client(world.alice).get(reverse("step_batch", args=[batch.pk, "D01"])).content.decode()
    expected = "应包含：听取意见时间、地点、意见提供人及职务、听取方式（会议或个别听取）、意见要点、意见提供人签字"
    assert expected in _visible(body)
    docx_url = reverse("reference_template_version_docx", args=[batch.procedure_id, "I01"])
    assert f'href="{docx_url}"' in body and "下载参考模本（Word）" in body
    assert reverse("reference_template_version_pdf", args=[batch.procedure_id, "I01"]) in body


def test_a_step_not_yet_started_already_offers_the_templates(world: World, batch: Batch):
    body = _client(world.alice).get(reverse("step_batch", args=[batch.pk, "D01"])).content.decode()
    assert "纪实项目及参考模本" in body and "应包含：听取意见时间" in _visible(body)
    assert reverse("reference_template_version_pdf", args=[batch.procedure_id, "I01"]) in body


def test_an_old_batch_keeps_the_templates_of_its_pinned_version(world: World, batch: Batch, standard):
    newer = STANDARD.replace(f'version: "{standard.version}"', 'version: "9999.1"', 1).replace(
        "意见要点, 意见提供人签字]", "意见要点, 意见提供人签字, 新增要素]", 1
    )
    new_version, created = procedure_version_register(loaded=parse_text(newer), actor=None)
    assert created
    client = _client(world.alice)

    step_page = client.get(reverse("step_batch", args=[batch.pk, "D01"])).content.decode()
    assert "意见提供人签字" in step_page and "新增要素" not in step_page
    old_docx = client.get(reverse("reference_template_version_docx", args=[batch.procedure_id, "I01"]))
    assert "新增要素" not in _docx_text(old_docx.content)

    latest = client.get(reverse("reference_template_docx", args=["standard", "I01"]))
    assert "新增要素" in _docx_text(latest.content)
    listing = client.get(reverse("reference_template_list")).content.decode()
    assert "9999.1" in listing and "<li>新增要素</li>" in listing
    assert reverse("reference_template_version_docx", args=[new_version.pk, "I01"]) in listing


@pytest.mark.urls("jishi.urls")
def test_the_step_page_still_shows_the_contents_under_the_bare_project_urls(world: World, batch: Batch):
    # The links are resolved with {% url … as %}, so a URLconf without documents/ only drops them.
    response = _client(world.alice).get(reverse("step_batch", args=[batch.pk, "D01"]))
    assert response.status_code == 200
    assert "应包含：听取意见时间" in _visible(response.content.decode())
