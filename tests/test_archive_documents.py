"""The archive documents rendered from plain data: 归档文件目录 with 备考表, 移交清单, 销毁清单 (PDF and Excel)."""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace

from openpyxl import load_workbook
from pypdf import PdfReader

from jishi.archives.catalogue_data import (
    BackupSheet,
    Catalogue,
    CatalogueRow,
    DispositionList,
    DispositionRow,
    TransferList,
    TransferRow,
)
from jishi.archives.catalogue_pdf import render_catalogue
from jishi.archives.catalogue_xlsx import catalogue_xlsx, transfer_xlsx
from jishi.archives.transfer_pdf import render_disposition_list, render_transfer_list

HEAD = "序号档号文号责任者题名日期密级页数备注"
MARKUP = "关于<script>alert(1)</script>&amp;张伟同志任职的通知"
ACCEPTED = BackupSheet(
    notes="本盒共3件，其中复印件1件。",
    organizer="李娜",
    organized_on="20261120",
    organizer_signature="电子签名密钥ab12cd34·台账J001#120",
    checker="王强",
    checked_on="20261125",
    checker_signature="电子签名密钥9f8e7d6c·台账J001#131",
)


def squash(value: str) -> str:
    """Text without whitespace: table cells wrap and pypdf puts spaces and breaks between runs."""
    return re.sub(r"\s", "", value)


def pdf_pages(data: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    return "".join(pdf_pages(data))


def item(number: int, **changes: object) -> CatalogueRow:
    row = CatalogueRow(
        number=number,
        code=f"J001-WS·2026-Y-GB-{number:04d}",
        document_number=f"内组干〔2026〕{number}号",
        responsible="中共内江市委组织部",
        title=f"关于第{number}号干部考察情况的报告",
        date="20260315",
        secrecy="秘密" if number % 3 == 0 else "",
        pages=2 + number % 5,
        remarks="复印件" if number % 4 == 0 else "",
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def catalogue(count: int = 3, backup: BackupSheet | None = ACCEPTED, **changes: object) -> Catalogue:
    volume = Catalogue(
        fonds="J001",
        fonds_name="中共内江市委组织部",
        year="2026",
        retention="永久",
        org_code="GB",
        volume_code="J001-WS·2026-Y-GB-H001",
        volume_title="2026年第三批市管干部调整选拔任用纪实材料",
        rows=tuple(item(n) for n in range(1, count + 1)),
        backup=backup,
        generated_at="2026-11-27 10:00",
    )
    return replace(volume, **changes)  # type: ignore[arg-type]


def transfer(signed: bool = False) -> TransferList:
    return TransferList(
        fonds_name="中共内江市委组织部",
        cadre_name="张伟",
        nomination_number="NJ-2026-003-01",
        position="市发展和改革委员会副主任",
        rows=(
            TransferRow(1, "9-2任免", "干部任免审批表", "20261101", 2, "J001-WS·2026-Y-GB-0003", ""),
            TransferRow(
                2,
                "4考察",
                "干部考察材料" + "（含民主推荐、考察谈话情况）" * 4,
                "20261012",
                8,
                "J001-WS·2026-Y-GB-0004",
                "原件",
            ),
            TransferRow(3, "9-2任免", MARKUP, "20261105", 1, "J001-WS·2026-Y-GB-0005", ""),
        ),
        handed_by="李娜",
        received_by="赵敏" if signed else "",
        handed_on="20261128" if signed else "",
        signature="电子签名密钥ab12cd34·台账J001#150" if signed else "",
        generated_at="2026-11-27 10:00",
    )


def disposition(approved: bool = False, executed: bool = False) -> DispositionList:
    return DispositionList(
        fonds_name="中共内江市委组织部",
        title="2026年度到期档案销毁清单",
        reason="保管期限已满，经鉴定无继续保存价值<无>&",
        rows=(
            DispositionRow(1, "J001-WS·2016-D10-GB-0007", "2016年考察预告", "20160520", "定期10年", "20261231", ""),
            DispositionRow(
                2, "J001-WS·2016-D10-GB-0008", "2016年会议推荐签到表", "20160602", "定期10年", "20261231", ""
            ),
        ),
        proposed_by="李娜",
        approved_by="陈志远" if approved else "",
        approval_signature="电子签名密钥77aa·台账J001#160" if approved else "",
        executed_by="王强" if executed else "",
        execution_signature="电子签名密钥88bb·台账J001#170" if executed else "",
        generated_at="2026-11-27 10:00",
    )


def test_the_catalogue_shows_its_cover_fields_and_every_item():
    text = pdf_text(render_catalogue(catalogue()))
    assert "归档文件目录" in text and HEAD in text
    for cover in ("全宗号J001", "全宗名称中共内江市委组织部", "年度2026", "保管期限永久", "机构（问题）GB"):
        assert cover in text, cover
    assert "J001-WS·2026-Y-GB-H001" in text and "2026年第三批市管干部调整选拔任用纪实材料" in text
    for row in catalogue().rows:
        assert f"{row.number}{row.code}{row.document_number}{row.responsible}{row.title}{row.date}" in text
    assert "本盒共3件，12页" in text


def test_the_catalogue_is_printed_on_landscape_a4():
    page = PdfReader(io.BytesIO(render_catalogue(catalogue()))).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (842, 595)


def test_the_catalogue_repeats_its_header_on_every_page():
    pages = pdf_pages(render_catalogue(catalogue(120)))
    assert len(pages) >= 3
    for number, page in enumerate(pages[:-1], start=1):  # the last page may hold only the 备考表
        assert HEAD in page, number
        assert "归档文件目录·J001-WS·2026-Y-GB-H001" in page
        assert f"第{number}页共{len(pages)}页" in page
    assert "J001-WS·2026-Y-GB-0120" in "".join(pages)


def test_the_backup_sheet_carries_the_organizer_and_checker_with_their_signatures():
    text = pdf_text(render_catalogue(catalogue()))
    assert "备考表盒内文件情况说明本盒共3件，其中复印件1件。" in text
    assert "整理人李娜整理日期20261120整理人签名电子签名密钥ab12cd34·台账J001#120" in text
    assert "检查人王强检查日期20261125检查人签名电子签名密钥9f8e7d6c·台账J001#131" in text
    assert "未验收" not in text


def test_a_backup_sheet_without_notes_says_none():
    text = pdf_text(render_catalogue(catalogue(backup=replace(ACCEPTED, notes="  "))))
    assert "盒内文件情况说明无整理人" in text


def test_an_unaccepted_volume_prints_a_blank_backup_sheet_marked_not_accepted():
    text = pdf_text(render_catalogue(catalogue(backup=None)))
    assert "备考表盒内文件情况说明整理人整理日期整理人签名检查人检查日期检查人签名" in text
    assert "未验收" in text
    assert "李娜" not in text and "王强" not in text


def test_markup_in_user_text_is_printed_literally():
    rows = (item(1, title=MARKUP, remarks="A&B<i>"),)
    text = pdf_text(render_catalogue(catalogue(rows=rows, volume_title="卷<b>&")))
    assert squash(MARKUP) in text and "A&B<i>" in text and "卷<b>&" in text


def test_a_very_long_title_wraps_inside_its_cell():
    title = "关于" + "干部选拔任用工作全程纪实" * 20 + "的通知"
    pdf = render_catalogue(catalogue(rows=(item(1, title=title),)))
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    pieces = [squash(line) for line in lines if squash(line) and squash(line) in title]
    assert "".join(pieces) == title
    assert len(pieces) >= 8 and max(len(p) for p in pieces) <= 30  # 题名 is 77 mm: about 24 characters


def test_five_hundred_items_render_on_many_pages_in_reasonable_time():
    started = time.monotonic()
    pdf = render_catalogue(catalogue(500))
    assert time.monotonic() - started < 30
    pages = pdf_pages(pdf)
    assert len(pages) > 15
    assert f"第{len(pages)}页共{len(pages)}页" in pages[-1]
    assert "J001-WS·2026-Y-GB-0500" in pages[-1] or "J001-WS·2026-Y-GB-0500" in pages[-2]


def test_the_pdfs_embed_their_chinese_font():
    for pdf in (
        render_catalogue(catalogue()),
        render_transfer_list(transfer()),
        render_disposition_list(disposition()),
    ):
        reader = PdfReader(io.BytesIO(pdf))
        for page in reader.pages:
            fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
            cjk = [f for f in fonts if "/DescendantFonts" in f or str(f["/BaseFont"]) != "/Helvetica"]
            assert cjk
            for font in cjk:
                descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                assert "/FontFile2" in descriptor.get_object(), font["/BaseFont"]


def test_the_catalogue_workbook_has_a_styled_header_and_typed_rows():
    book = load_workbook(io.BytesIO(catalogue_xlsx(catalogue(5))))
    assert book.sheetnames == ["归档文件目录", "备考表"]
    sheet = book["归档文件目录"]
    assert sheet["A1"].value == "归档文件目录"
    assert "全宗号：J001" in sheet["A2"].value and "机构（问题）：GB" in sheet["A2"].value
    assert "J001-WS·2026-Y-GB-H001" in sheet["A3"].value
    header = [cell for cell in sheet[4]]
    assert [cell.value for cell in header] == ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
    assert all(
        cell.font.bold and cell.fill.fgColor.rgb.endswith("E8EEF5") and cell.border.left.style for cell in header
    )
    first = [cell.value for cell in sheet[5]]
    assert first[:6] == [
        1,
        "J001-WS·2026-Y-GB-0001",
        "内组干〔2026〕1号",
        "中共内江市委组织部",
        "关于第1号干部考察情况的报告",
        "20260315",
    ]
    assert first[7] == 3
    numbers = [sheet.cell(row=r, column=1).value for r in range(5, 10)]
    pages = [sheet.cell(row=r, column=8).value for r in range(5, 10)]
    assert numbers == [1, 2, 3, 4, 5] and all(type(p) is int for p in pages)
    assert sheet["F5"].data_type == "s" and sheet["F5"].number_format == "@"
    assert sheet.freeze_panes == "A5"
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage


def test_the_workbook_backup_sheet_holds_the_signatures_or_is_marked_not_accepted():
    accepted = load_workbook(io.BytesIO(catalogue_xlsx(catalogue())))["备考表"]
    fields = {row[0]: row[1] for row in accepted.iter_rows(min_row=3, values_only=True) if row[0]}
    assert fields["盒内文件情况说明"] == "本盒共3件，其中复印件1件。"
    assert fields["整理人"] == "李娜" and fields["整理日期"] == "20261120"
    assert fields["检查人"] == "王强" and fields["检查人签名"] == ACCEPTED.checker_signature
    assert not any("未验收" in str(v) for row in accepted.iter_rows(values_only=True) for v in row)

    pending = load_workbook(io.BytesIO(catalogue_xlsx(catalogue(backup=None))))["备考表"]
    values = [v for row in pending.iter_rows(values_only=True) for v in row if v]
    assert "整理人签名" in values and "检查人" in values
    assert "李娜" not in values and any("未验收" in str(v) for v in values)


def test_a_title_starting_with_an_equals_sign_stays_text_in_excel():
    formula = '=HYPERLINK("http://example.com","点击")'
    book = load_workbook(io.BytesIO(catalogue_xlsx(catalogue(rows=(item(1, title=formula, remarks="<b>&"),)))))
    cell = book["归档文件目录"]["E5"]
    assert cell.value == formula and cell.data_type == "s"
    assert book["归档文件目录"]["I5"].value == "<b>&"


def test_the_transfer_list_names_the_cadre_and_every_material():
    pdf = render_transfer_list(transfer())
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert float(page.mediabox.height) > float(page.mediabox.width)
    text = pdf_text(pdf)
    assert "干部人事档案材料移交清单" in text
    assert "姓名张伟纪实表编号NJ-2026-003-01" in text and "市发展和改革委员会副主任" in text
    assert "序号类别材料名称（题名）日期页数档号备注" in text
    for row in transfer().rows:
        assert f"{row.number}{row.category}{squash(row.title)}{row.date}{row.pages}{row.code}{row.remarks}" in text
    assert "共3份，11页" in text


def test_an_unsigned_transfer_list_leaves_the_hand_over_blank_and_says_so():
    text = pdf_text(render_transfer_list(transfer(signed=False)))
    assert "移交人李娜接收人移交日期签名未签署" in text

    signed = pdf_text(render_transfer_list(transfer(signed=True)))
    assert "移交人李娜接收人赵敏移交日期20261128签名电子签名密钥ab12cd34·台账J001#150" in signed
    assert "未签署" not in signed


def test_the_transfer_workbook_holds_the_materials_and_the_hand_over():
    sheet = load_workbook(io.BytesIO(transfer_xlsx(transfer())))["移交清单"]
    assert sheet.parent.sheetnames == ["移交清单"]
    assert [c.value for c in sheet[4]] == ["序号", "类别", "材料名称（题名）", "日期", "页数", "档号", "备注"]
    assert [c.value for c in sheet[5]][:6] == [1, "9-2任免", "干部任免审批表", "20261101", 2, "J001-WS·2026-Y-GB-0003"]
    assert sheet["C7"].value == MARKUP and type(sheet["E6"].value) is int
    assert "张伟" in sheet["A2"].value and "NJ-2026-003-01" in sheet["A2"].value
    assert sheet.freeze_panes == "A5" and sheet.print_title_rows == "$4:$4"
    fields = {row[0]: row[2] for row in sheet.iter_rows(min_row=9, values_only=True) if row[0]}
    assert fields["移交人"] == "李娜" and fields["接收人"] is None and fields["签名"] is None
    assert any(str(key).startswith("未签署") for key in fields)

    signed = load_workbook(io.BytesIO(transfer_xlsx(transfer(signed=True))))["移交清单"]
    fields = {row[0]: row[2] for row in signed.iter_rows(min_row=9, values_only=True) if row[0]}
    assert fields["接收人"] == "赵敏" and fields["移交日期"] == "20261128"
    assert not any(str(key).startswith("未签署") for key in fields)


def test_the_disposition_list_shows_the_reason_and_the_expired_items():
    text = pdf_text(render_disposition_list(disposition()))
    assert "2026年度到期档案销毁清单" in text
    assert "销毁理由：保管期限已满，经鉴定无继续保存价值<无>&" in text
    assert "序号档号题名日期保管期限到期日期备注" in text
    assert "1J001-WS·2016-D10-GB-00072016年考察预告20160520定期10年20261231" in text
    assert "共2件" in text


def test_the_disposition_list_marks_what_is_still_pending():
    pending = pdf_text(render_disposition_list(disposition()))
    assert "提出人李娜批准人批准签名执行人执行签名" in pending
    assert "待批准" in pending and "待执行" in pending

    approved = pdf_text(render_disposition_list(disposition(approved=True)))
    assert "批准人陈志远批准签名电子签名密钥77aa·台账J001#160" in approved
    assert "待批准" not in approved and "待执行" in approved

    done = pdf_text(render_disposition_list(disposition(approved=True, executed=True)))
    assert "执行人王强执行签名电子签名密钥88bb·台账J001#170" in done
    assert "待批准" not in done and "待执行" not in done
