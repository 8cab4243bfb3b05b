"""The 全程纪实报告表 (一人一表): content in procedure order, highlighted exceptions, PAdES signature."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN, World
from jishi.documents import pades
from jishi.documents.services import report_form_generate
from jishi.ledger.models import Checkpoint, Event
from jishi.selection import services
from jishi.selection.models import Batch, Material
from jishi.selection.walk import walk, walk_step


def pdf_text(data: bytes) -> str:
    # Cells wrap long text; join the lines so phrases can be found whole.
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def embedded_fonts(reader: PdfReader) -> dict[str, bool]:
    """Font name → whether its program is embedded (FontFile2), over every page."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            found[str(font["/BaseFont"])] = descriptor is not None and "/FontFile2" in descriptor.get_object()
    return found


@pytest.fixture
def walked(world: World, batch: Batch) -> Batch:
    """The batch worked up to D05 (waived), with D01 corrected."""
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D05")
    services.step_waive(
        actor=world.carol,
        batch=batch,
        step_id="D05",
        reason="本批无须事前报告的事项",
        legal_basis="《干部选拔任用工作条例》第八条",
        pin=SIGNING_PIN,
    )
    d01 = batch.records.get(step_id="D01", corrects__isnull=True)
    field = next(f for f in batch.procedure.definition.step("D01").fields if f.type == "date")
    services.step_correct(
        actor=world.bob, record=d01, reason="听取意见日期笔误", data={field.id: "2026-03-02"}, pin=SIGNING_PIN
    )
    return batch


def test_the_report_form_holds_every_step_in_procedure_order_with_its_signers(world: World, walked: Batch):
    nomination = walked.nominations.first()
    document = report_form_generate(actor=world.bob, nomination=nomination)
    text = pdf_text(document.content)
    assert "领导干部选拔任用工作全程纪实报告表" in text
    assert nomination.cadre.name in text and nomination.number in text
    steps = walked.procedure.definition.steps()
    positions = [text.find(f"{step.id} ") for step in steps]
    assert all(p >= 0 for p in positions), [s.id for s, p in zip(steps, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "steps must appear in procedure order"
    # Responsible people and their signatures, as recorded.
    assert "王建国" in text and "李晓红" in text and "已电子签名" in text
    material = Material.objects.filter(record__batch=walked).first()
    assert material.title in text


def test_waivers_and_corrections_stand_out_with_their_reasons(world: World, walked: Batch):
    text = pdf_text(report_form_generate(actor=world.bob, nomination=walked.nominations.first()).content)
    assert "【免除】" in text and "本批无须事前报告的事项" in text and "第八条" in text
    assert "【更正记录】" in text and "听取意见日期笔误" in text
    assert "【已被更正" in text
    assert "陈志远" in text  # the approver of the waiver


def test_every_record_names_the_signed_checkpoint_that_covers_it(world: World, walked: Batch):
    nomination = walked.nominations.first()
    document = report_form_generate(actor=world.bob, nomination=nomination)
    checkpoint = Checkpoint.objects.filter(chain__fonds="J001").order_by("-tree_size").first()
    text = pdf_text(document.content)
    assert f"J001/{checkpoint.tree_size}" in text
    assert "尚待下一个签名检查点覆盖" not in text  # generation signs a checkpoint first


def test_the_pdf_is_signed_by_the_unit_and_one_changed_byte_breaks_it(world: World, walked: Batch):
    document = report_form_generate(actor=world.bob, nomination=walked.nominations.first())
    check = pades.check_pdf(document.content)
    assert check.ok, check.message
    assert "内江市委组织部" in check.signer
    tampered = bytearray(document.content)
    tampered[len(tampered) // 3] ^= 0x01
    broken = pades.check_pdf(bytes(tampered))
    assert not broken.ok and not broken.intact


def test_a_signature_from_an_unregistered_certificate_is_not_trusted(world: World, walked: Batch, settings, tmp_path):
    document = report_form_generate(actor=world.bob, nomination=walked.nominations.first())
    assert not pades.check_pdf(document.content, roots=[]).trusted


def test_generating_the_form_records_who_took_it_and_its_digest(world: World, walked: Batch):
    nomination = walked.nominations.first()
    document = report_form_generate(actor=world.erin, nomination=nomination)
    event = Event.objects.filter(action="document.report_form").latest("seq")
    assert event.actor == world.erin and event.subject_id == str(nomination.pk)
    assert document.sha256 in event.payload


def test_a_county_clerk_cannot_take_a_city_report_form(world: World, walked: Batch):
    with pytest.raises(PermissionDenied):
        report_form_generate(actor=world.grace, nomination=walked.nominations.first())
    assert not Event.objects.filter(action="document.report_form").exists()


def test_without_an_embeddable_cjk_font_it_refuses_clearly(world: World, walked: Batch, settings, monkeypatch):
    from jishi.documents import fonts

    settings.PDF_CJK_FONT = "/nonexistent/font.ttc"
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    with pytest.raises(ApplicationError, match="未找到可嵌入的中文字体") as caught:
        report_form_generate(actor=world.bob, nomination=walked.nominations.first())
    assert caught.value.code == "no_cjk_font"
    assert not Event.objects.filter(action="document.report_form").exists()


def test_without_a_unit_certificate_it_refuses_and_says_how_to_make_one(world: World, batch: Batch, settings, tmp_path):
    settings.DOCUMENT_CERT_DIR = tmp_path / "none"
    with pytest.raises(ApplicationError, match="cert-create"):
        report_form_generate(actor=world.bob, nomination=batch.nominations.first())


def test_the_embedded_font_is_in_the_file(world: World, batch: Batch):
    document = report_form_generate(actor=world.bob, nomination=batch.nominations.first())
    reader = PdfReader(io.BytesIO(document.content))
    fonts_found = embedded_fonts(reader)
    # ReportLab lists Helvetica (a standard-14 font every reader has) as its initial font; all text is CJK.
    fonts_found.pop("/Helvetica", None)
    assert fonts_found and all(fonts_found.values()), fonts_found


def test_an_unstarted_nomination_still_gets_a_complete_form(world: World, batch: Batch):
    walk_step(batch=batch, step_id="D01", nomination=None, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    text = pdf_text(report_form_generate(actor=world.bob, nomination=batch.nominations.first()).content)
    assert "未办理" in text and "D01 " in text


def test_a_record_with_more_materials_than_fit_on_a_page_continues_overleaf(world: World, batch: Batch):
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01", nomination=None)
    for i in range(150):
        services.material_register(actor=world.alice, record=record, item_id="I01", title=f"听取意见材料第{i + 1}份")
    text = pdf_text(report_form_generate(actor=world.bob, nomination=batch.nominations.first()).content)
    assert "听取意见材料第1份" in text and "听取意见材料第150份" in text
