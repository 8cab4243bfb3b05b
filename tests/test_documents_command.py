"""`manage.py documents …` and the report-form pages: same documents, same checks, same ledger events."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from jishi.core.testing import PASSWORD, SIGNING_PIN, World
from jishi.documents import pades
from jishi.ledger.models import Event
from jishi.selection.models import Batch
from jishi.selection.walk import walk_step


@pytest.fixture
def started(world: World, batch: Batch) -> Batch:
    walk_step(batch=batch, step_id="D01", nomination=None, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    return batch


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("documents", *args, stdout=out)
    return out.getvalue()


def client_for(user) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


def test_the_command_writes_a_signed_report_form_and_names_the_operator(world: World, started: Batch, tmp_path):
    nomination = started.nominations.first()
    out = tmp_path / "report.pdf"
    printed = run("report-form", nomination.number, "-o", str(out), "--user", "bob")
    assert "已生成全程纪实报告表" in printed
    assert pades.check_pdf(out.read_bytes()).ok
    assert nomination.cadre.name in PdfReader(out).pages[0].extract_text()
    assert Event.objects.filter(action="document.report_form", actor=world.bob).count() == 1


def test_a_whole_batch_gets_one_form_per_person_with_progress(world: World, started: Batch, tmp_path):
    printed = run("report-form", "--batch", started.number, "-o", str(tmp_path / "forms"), "--user", "frank")
    assert "[1/3]" in printed and "[3/3]" in printed
    assert len(list((tmp_path / "forms").glob("*.pdf"))) == 3
    assert Event.objects.filter(action="document.report_form", actor=world.frank).count() == 3


def test_the_command_applies_the_named_users_permissions(world: World, started: Batch, tmp_path):
    with pytest.raises(CommandError, match="无权"):
        run("report-form", started.nominations.first().number, "-o", str(tmp_path / "x.pdf"), "--user", "grace")
    assert not (tmp_path / "x.pdf").exists()


def test_an_unknown_nomination_is_a_clear_error(world: World, tmp_path):
    with pytest.raises(CommandError, match="没有纪实表编号为 J009"):
        run("report-form", "J009-2026-001-01", "-o", str(tmp_path / "x.pdf"), "--user", "bob")


def test_verify_pdf_passes_a_signed_form_and_fails_a_changed_one(world: World, started: Batch, tmp_path):
    out = tmp_path / "report.pdf"
    run("report-form", started.nominations.first().number, "-o", str(out), "--user", "bob")
    assert "签章有效" in run("verify-pdf", str(out))
    data = bytearray(out.read_bytes())
    data[2000] ^= 0x20
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="签章无效"):
        run("verify-pdf", str(bad))


def test_cert_create_refuses_to_replace_silently(world: World, settings, tmp_path):
    settings.DOCUMENT_CERT_DIR = tmp_path / "certs"
    assert "已为" in run("cert-create", "--fonds", "J001")
    with pytest.raises(CommandError, match="已有文书签章证书"):
        run("cert-create", "--fonds", "J001")
    assert "未改动" in run("cert-create", "--fonds", "J001", "--if-missing")


def test_the_printable_page_shows_the_same_record_as_the_pdf(world: World, started: Batch):
    nomination = started.nominations.first()
    response = client_for(world.bob).get(reverse("report_form", args=[nomination.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "领导干部选拔任用工作全程纪实报告表" in page and nomination.number in page
    assert "D01 " in page and "王建国" in page and "已电子签名" in page
    assert not Event.objects.filter(action="document.report_form").exists()  # viewing is not a download


def test_the_pdf_download_is_an_attachment_with_its_digest_on_the_ledger(world: World, started: Batch):
    nomination = started.nominations.first()
    response = client_for(world.erin).get(reverse("report_form_pdf", args=[nomination.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    event = Event.objects.get(action="document.report_form")
    assert event.actor == world.erin and response["X-Document-SHA256"] in event.payload


def test_another_units_clerk_sees_neither_page_nor_pdf(world: World, started: Batch):
    nomination = started.nominations.first()
    client = client_for(world.grace)
    assert client.get(reverse("report_form", args=[nomination.pk])).status_code == 403
    assert client.get(reverse("report_form_pdf", args=[nomination.pk])).status_code == 403
    assert not Event.objects.filter(action="document.report_form").exists()


def test_the_approval_form_comes_from_master_data_and_the_nomination(world: World, started: Batch, tmp_path):
    nomination = started.nominations.first()
    out = tmp_path / "approval.pdf"
    run("approval-form", nomination.number, "-o", str(out), "--user", "bob")
    reader = PdfReader(out)
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert len(reader.pages) == 2
    assert "干部任免审批表" in text and nomination.cadre.name in text
    assert nomination.position.title in text and started.org_unit.name in text
    assert pades.check_pdf(out.read_bytes()).ok
    assert Event.objects.filter(action="document.approval_form", actor=world.bob).count() == 1


def test_a_dry_run_import_of_an_exported_file_changes_nothing(world: World, started: Batch, tmp_path):
    nomination = started.nominations.first()
    out = tmp_path / "person.lrmx"
    run("lrmx-export", nomination.number, "-o", str(out), "--user", "bob")
    assert b"<NiRenZhiWu>" in out.read_bytes()
    before = Event.objects.count()
    printed = run("lrmx-import", str(out), "--unit", "J001", "--user", "alice", "--dry-run")
    assert f"更新 {nomination.cadre.name}" in printed and "未作任何修改" in printed
    assert Event.objects.count() == before


def test_lrmx_import_lists_each_difference_and_applies_it_with_yes(world: World, started: Batch, tmp_path):
    cadre = started.nominations.first().cadre
    out = tmp_path / "person.lrmx"
    run("lrmx-export", str(cadre.pk), "-o", str(out), "--user", "bob")
    out.write_bytes(out.read_bytes().replace(b"<MinZu>", "<MinZu>回".encode()).replace("汉族".encode(), b""))
    printed = run("lrmx-import", str(out), "--unit", "J001", "--user", "alice", "--yes")
    assert "民族" in printed and "已导入" in printed
    cadre.refresh_from_db()
    assert cadre.ethnicity.startswith("回")
    assert Event.objects.filter(action="cadre.lrmx_import", actor=world.alice).count() == 1


def test_a_hostile_lrmx_file_is_refused_by_the_command_with_nothing_changed(world: World, tmp_path):
    evil = tmp_path / "evil.lrmx"
    evil.write_text(
        '<?xml version="1.0"?><!DOCTYPE Person [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Person><XingMing>&x;</XingMing></Person>",
        encoding="utf-8",
    )
    before = Event.objects.count()
    with pytest.raises(CommandError):
        run("lrmx-import", str(evil), "--unit", "J001", "--user", "alice", "--yes")
    assert Event.objects.count() == before


def test_the_register_workbook_matches_the_digest_on_the_ledger(world: World, started: Batch, tmp_path):
    import hashlib

    from openpyxl import load_workbook

    out = tmp_path / "台账.xlsx"
    printed = run("ledger-xlsx", "--unit", "J001", "-o", str(out), "--user", "bob")
    assert "3 人" in printed
    sheet = load_workbook(out).active
    names = {cell.value for row in sheet.iter_rows() for cell in row}
    assert {n.cadre.name for n in started.nominations.all()} <= names
    event = Event.objects.get(action="register.export")
    assert hashlib.sha256(out.read_bytes()).hexdigest() in event.payload


def test_the_notebook_command_writes_the_batch_notebook(world: World, started: Batch, tmp_path):
    out = tmp_path / "notebook.pdf"
    run("notebook", started.number, "-o", str(out), "--user", "bob")
    text = "".join(page.extract_text() for page in PdfReader(out).pages).replace("\n", "")
    assert "纪实专用笔记本" in text and started.number in text
    assert Event.objects.filter(action="notebook.export", actor=world.bob).count() == 1


def test_every_subcommand_that_touches_personal_data_needs_a_named_user(world: World, started: Batch, tmp_path):
    with pytest.raises(CommandError, match="--user"):
        run("report-form", started.nominations.first().number, "-o", str(tmp_path / "x.pdf"))
