"""The printed 《干部任免审批表》: layout, content, overflow and the embedded font."""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import zlib

import pytest
from pypdf import PdfReader

from jishi.cadres.approval_data import ApprovalForm, FamilyRow
from jishi.documents.approval_form import age_at, birth_with_age, day, month, party_join, render_approval_form

RESUME = [
    "1998.09--2002.07  四川大学经济学院金融学专业学习",
    "2002.07--2005.03  内江市财政局预算科科员",
    "2005.03--2008.06  内江市财政局预算科副科长",
    "2008.06--2011.09  内江市财政局预算科科长",
    "2011.09--2014.12  内江市东兴区人民政府副区长",
    "                  （2009.09--2011.07 在西南财经大学经济学专业在职研究生学习，获经济学硕士学位）",
    "2014.12--2017.05  内江市发展和改革委员会副主任、党组成员",
    "2017.05--2020.11  内江市发展和改革委员会党组副书记、副主任",
    "2020.11--2023.08  隆昌市委副书记、市人民政府市长",
    "2023.08--         内江市发展和改革委员会党组书记、主任",
]

FAMILY = [
    FamilyRow("妻子", "李娜", "198203", "中共党员", "内江市第一人民医院主治医师"),
    FamilyRow("儿子", "张子涵", "200905", "共青团员", "内江市第六中学学生"),
    FamilyRow("女儿", "张子萱", "201402", "群众", "内江市东兴区实验小学学生"),
    FamilyRow("父亲", "张建国", "195404", "中共党员", "内江市供销社退休干部"),
    FamilyRow("母亲", "王秀英", "195611", "群众", "内江市纺织厂退休职工"),
    FamilyRow("岳父", "李成文", "195308", "中共党员", "内江市教育局退休干部"),
    FamilyRow("岳母", "赵淑芬", "195512", "群众", "已去世"),
    FamilyRow("兄", "张强", "197703", "中共党员", "成都市锦江区商务局四级调研员"),
]


def png(width: int = 24, height: int = 32) -> bytes:
    """A small valid RGB PNG built by hand (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 10 % 256, y * 8 % 256, 128)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def zhang_wei(**changes: object) -> ApprovalForm:
    form = ApprovalForm(
        name="张伟",
        sex="男",
        birth="198007",
        ethnicity="汉族",
        native_place="四川内江",
        birthplace="四川隆昌",
        party_join="200106",
        work_start="200207",
        health="健康",
        professional_title="高级经济师",
        expertise="宏观经济管理、财政预算",
        fulltime_education="大学",
        fulltime_degree="经济学学士",
        fulltime_education_school="四川大学经济学院金融学专业",
        fulltime_degree_school="四川大学经济学院金融学专业",
        inservice_education="研究生",
        inservice_degree="经济学硕士",
        inservice_education_school="西南财经大学经济学专业",
        inservice_degree_school="西南财经大学经济学院",
        current_post="内江市发展和改革委员会党组书记、主任",
        proposed_post="内江市人民政府副市长",
        post_to_remove="内江市发展和改革委员会主任",
        resume="\n".join(RESUME),
        rewards_punishments="2019年被评为四川省优秀公务员；2021年记三等功一次。",
        annual_appraisals="2023年、2024年、2025年年度考核均为优秀。",
        appointment_reason="工作需要，经市委常委会议研究决定提名。",
        family=tuple(FAMILY),
        submitting_unit="中共内江市委组织部",
        age_reference_date="20260815",
        filled_on="20260820",
        filled_by="王芳",
        id_number="511002198007150018",
        photo=png(),
        version="3.2.1.16",
    )
    return dataclasses.replace(form, **changes)  # type: ignore[arg-type]


def compact(text: str) -> str:
    """Drop all whitespace: wrapped labels and cells come back from pypdf with line breaks inside."""
    return re.sub(r"\s+", "", text)


def pages_text(pdf: bytes) -> list[str]:
    return [compact(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_approval_form(zhang_wei())


def test_a_normal_form_prints_on_exactly_two_a4_pages(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]


def test_page_one_holds_the_title_particulars_posts_and_resume(rendered):
    first, _ = pages_text(rendered)
    assert first.startswith("干部任免审批表")
    for expected in [
        "姓名", "张伟", "性别", "男", "出生年月", "1980.07（46岁）", "民族", "汉族", "籍贯", "四川内江",
        "出生地", "四川隆昌", "入党时间", "2001.06", "参加工作时间", "2002.07", "健康状况", "健康",
        "专业技术职务", "高级经济师", "熟悉专业有何专长", "宏观经济管理、财政预算", "学历学位", "全日制教育",
        "在职教育", "毕业院校系及专业", "大学", "经济学学士", "四川大学经济学院金融学专业", "研究生",
        "经济学硕士", "现任职务", "内江市发展和改革委员会党组书记、主任", "拟任职务", "内江市人民政府副市长",
        "拟免职务", "内江市发展和改革委员会主任", "简历",
    ]:  # fmt: skip
        assert expected in first, expected
    for line in RESUME:
        assert compact(line) in first, line


def test_both_schools_are_shown_when_the_degree_came_from_another_one(rendered):
    first, _ = pages_text(rendered)
    assert "西南财经大学经济学专业" in first
    assert "西南财经大学经济学院" in first
    assert first.count("四川大学经济学院金融学专业") == 2  # once in 学历学位, once in the 简历 line


def test_page_two_holds_rewards_appraisals_reason_family_and_approval_blocks(rendered):
    _, second = pages_text(rendered)
    for expected in [
        "奖惩情况", "2019年被评为四川省优秀公务员；2021年记三等功一次。", "年度考核结果",
        "2023年、2024年、2025年年度考核均为优秀。", "任免理由", "工作需要，经市委常委会议研究决定提名。",
        "家庭主要成员及重要社会关系", "称谓", "姓名", "出生年月", "政治面貌", "工作单位及职务",
        "呈报单位", "中共内江市委组织部", "审批机关意见", "行政机关任免意见", "（盖章）", "年月日",
        "填表人：王芳", "填表时间：2026.08.20",
    ]:  # fmt: skip
        assert expected in second, expected
    for member in FAMILY:
        for value in (member.relation, member.name, month(member.birth), member.political_status):
            assert value in second, value
        assert member.work_unit_position in second
    assert second.count("年月日") == 3  # 呈报单位, 审批机关, 行政机关


def test_the_pdf_carries_its_title_and_author(rendered):
    info = PdfReader(io.BytesIO(rendered)).metadata
    assert info is not None
    assert info.title == "干部任免审批表 — 张伟"
    assert info.author == "纪实系统"


def test_the_chinese_font_is_embedded(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        descriptors = [fonts[name].get_object()["/FontDescriptor"].get_object() for name in fonts]
        assert descriptors
        assert all("/FontFile2" in d for d in descriptors)


def test_the_photo_is_drawn_in_the_photo_cell(rendered):
    first_page = PdfReader(io.BytesIO(rendered)).pages[0]
    assert len(first_page.images) == 1
    assert "照片" not in pages_text(rendered)[0]


@pytest.mark.parametrize("photo", [b"", b"not an image at all", png()[:40]], ids=["none", "garbage", "truncated"])
def test_without_a_readable_photo_the_cell_says_photo(photo):
    pdf = render_approval_form(zhang_wei(photo=photo))
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0
    assert "照片" in pages_text(pdf)[0]


def test_the_same_form_gives_the_same_bytes(rendered):
    assert render_approval_form(zhang_wei()) == rendered


def test_a_sixty_line_resume_continues_on_attached_pages_with_every_line_present():
    lines = [f"{1960 + i}.01--{1961 + i}.01  第{i + 1}段经历：内江市某某单位某某科室工作人员" for i in range(60)]
    pdf = render_approval_form(zhang_wei(resume="\n".join(lines)))
    texts = pages_text(pdf)
    assert len(texts) > 2
    assert "简历未完" in texts[0]
    assert texts[1].startswith("奖惩情况")  # page 2 stays the back of the form
    assert texts[2].startswith("简历（续）")
    everything = "".join(texts)
    for line in lines:
        assert compact(line) in everything, line


def test_a_resume_slightly_too_long_shrinks_instead_of_adding_a_page():
    lines = [f"{1980 + i}.01--{1981 + i}.01  内江市某某单位某某科室工作人员" for i in range(28)]
    pdf = render_approval_form(zhang_wei(resume="\n".join(lines)))
    texts = pages_text(pdf)
    assert len(texts) == 2
    for line in lines:
        assert compact(line) in texts[0], line


def test_a_very_long_resume_line_wraps_and_is_kept_whole():
    line = "2023.08--         " + "负责全市经济社会发展规划、重大项目布局和改革统筹协调工作，" * 6
    pdf = render_approval_form(zhang_wei(resume=line))
    assert compact(line) in pages_text(pdf)[0]


def test_fewer_family_members_still_print_seven_rows():
    pdf = render_approval_form(zhang_wei(family=(FamilyRow("妻子", "李娜", "198203", "中共党员", "医生"),)))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert "李娜" in compact(reader.pages[1].extract_text())


def test_a_long_family_list_flows_on_with_every_member():
    family = tuple(FamilyRow("亲属", f"成员{i:02d}", "198001", "群众", "内江市某单位职工") for i in range(40))
    pdf = render_approval_form(zhang_wei(family=family))
    texts = pages_text(pdf)
    assert len(texts) > 2
    everything = "".join(texts)
    for member in family:
        assert member.name in everything


def test_long_texts_on_page_two_are_kept_whole():
    reason = "该同志政治坚定，" + "工作思路清晰，善于统筹协调，推动发展能力强，" * 120
    pdf = render_approval_form(zhang_wei(appointment_reason=reason))
    assert compact(reason) in "".join(pages_text(pdf))


@pytest.mark.parametrize(
    "field",
    ["current_post", "expertise", "rewards_punishments", "appointment_reason", "submitting_unit"],
)
def test_a_value_longer_than_a_page_is_cut_between_lines_and_kept_whole(field):
    value = "内江市发展和改革委员会党组书记、主任，" * 150
    pdf = render_approval_form(zhang_wei(**{field: value}))
    assert compact(value) in "".join(pages_text(pdf))


def test_a_family_member_with_a_page_long_work_unit_is_kept_whole():
    unit = "内江市第一人民医院主治医师，" * 150
    pdf = render_approval_form(zhang_wei(family=(FamilyRow("妻子", "李娜", "198203", "中共党员", unit), *FAMILY)))
    everything = "".join(pages_text(pdf))
    assert compact(unit) in everything
    assert all(member.name in everything for member in FAMILY)


def test_a_resume_line_longer_than_page_one_continues_on_the_attached_page():
    line = "2023.08--  " + "负责全市经济社会发展规划和重大项目布局，" * 400
    texts = pages_text(render_approval_form(zhang_wei(resume=line)))
    front, attached = texts[0].split("（简历未完")[0], "".join(texts[2:])
    assert attached.startswith("简历（续）干部任免审批表姓名：张伟")
    assert front.split("简历", 1)[1] + attached.removeprefix("简历（续）干部任免审批表姓名：张伟") == compact(line)


def test_long_short_cells_wrap_inside_them():
    expertise = "宏观经济管理、财政预算管理、投资项目管理、区域经济发展规划、国有资产监督管理"
    pdf = render_approval_form(zhang_wei(expertise=expertise, native_place="四川省内江市东兴区椑木镇"))
    texts = pages_text(pdf)
    assert len(texts) == 2
    assert expertise in texts[0]
    assert "四川省内江市东兴区椑木镇" in texts[0]


def test_an_empty_form_renders_the_blank_layout():
    pdf = render_approval_form(ApprovalForm())
    texts = pages_text(pdf)
    assert len(texts) == 2
    assert texts[0].startswith("干部任免审批表")
    for label in ["姓名", "出生年月（岁）", "照片", "学历学位", "现任职务", "简历"]:
        assert label in texts[0], label
    for label in ["奖惩情况", "家庭主要成员及重要社会关系", "呈报单位", "填表人：", "填表时间："]:
        assert label in texts[1], label
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == "干部任免审批表"


def test_markup_characters_in_values_are_printed_literally():
    pdf = render_approval_form(zhang_wei(appointment_reason="A&B <任职> 试用期一年"))
    assert "A&B<任职>试用期一年" in pages_text(pdf)[1]


def test_a_custom_title_is_used_for_heading_and_metadata():
    pdf = render_approval_form(zhang_wei(), title="干部任免审批表（试用期满）")
    assert pages_text(pdf)[0].startswith("干部任免审批表（试用期满）")
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == "干部任免审批表（试用期满） — 张伟"


@pytest.mark.parametrize(
    ("birth", "reference", "age"),
    [
        ("198007", "20260815", 46),
        ("198007", "202607", 46),
        ("198007", "202606", 45),
        ("19800715", "20260101", 45),
        ("198007", "", None),
        ("198007", "2026", None),
        ("198013", "20260815", None),
        ("", "20260815", None),
    ],
)
def test_age_is_counted_in_whole_years_at_the_reference_date(birth, reference, age):
    assert age_at(birth, reference) == age


def test_birth_is_printed_with_the_age_only_when_it_can_be_counted():
    assert birth_with_age("198007", "20260815") == "1980.07（46岁）"
    assert birth_with_age("198007", "") == "1980.07"
    assert birth_with_age("", "20260815") == ""


def test_months_and_days_are_printed_with_dots_and_text_is_kept():
    assert month("200106") == "2001.06"
    assert month("中国民主同盟") == "中国民主同盟"
    assert party_join("200106") == "2001.06"
    assert party_join("中国民主同盟") == "中国民主同盟"
    assert party_join("200106；中国民主同盟") == "2001.06；中国民主同盟"
    assert day("20260820") == "2026.08.20"
    assert day("202608") == "2026.08"
    assert day("2026年8月") == "2026年8月"
