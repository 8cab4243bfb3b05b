"""中组部任免审批表 .lrmx files: the pure reader/writer (cadres.lrmx) and import/export services."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
import time_machine
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from jishi.cadres import lrmx
from jishi.cadres.approval_data import ApprovalForm, FamilyRow
from jishi.cadres.approval_io import form_from_cadre, lrmx_diff
from jishi.cadres.lrmx import LrmxError
from jishi.cadres.models import Cadre, FamilyMember
from jishi.cadres.services import cadre_lrmx_export, cadre_lrmx_import, cadre_lrmx_preview
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import World, aware
from jishi.ledger.models import Event
from jishi.selection.models import Batch


def with_check_character(body: str) -> str:
    remainder = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body)) % 11
    return body + "10X98765432"[remainder]


ID_NUMBER = with_check_character("51100219820501123")
PNG = lrmx.PNG_MAGIC + b"\x00\x00\x00\rIHDR fake png body"
JPEG = lrmx.JPEG_MAGIC + b"\xe0\x00\x10JFIF fake jpeg body\xff\xd9"

ELEMENT_ORDER = [
    "XingMing",
    "XingBie",
    "ChuShengNianYue",
    "MinZu",
    "JiGuan",
    "ChuShengDi",
    "RuDangShiJian",
    "CanJiaGongZuoShiJian",
    "JianKangZhuangKuang",
    "ZhuanYeJiShuZhiWu",
    "ShuXiZhuanYeYouHeZhuanChang",
    "QuanRiZhiJiaoYu_XueLi",
    "QuanRiZhiJiaoYu_XueWei",
    "QuanRiZhiJiaoYu_XueLi_BiYeYuanXiaoXi",
    "QuanRiZhiJiaoYu_XueWei_BiYeYuanXiaoXi",
    "ZaiZhiJiaoYu_XueLi",
    "ZaiZhiJiaoYu_XueWei",
    "ZaiZhiJiaoYu_XueLi_BiYeYuanXiaoXi",
    "ZaiZhiJiaoYu_XueWei_BiYeYuanXiaoXi",
    "XianRenZhiWu",
    "NiRenZhiWu",
    "NiMianZhiWu",
    "JianLi",
    "JiangChengQingKuang",
    "NianDuKaoHeJieGuo",
    "RenMianLiYou",
    "JiaTingChengYuan",
    "ChengBaoDanWei",
    "GaiGeQianRenZhiNianLingJieXian",
    "JiSuanNianLingShiJian",
    "TianBiaoShiJian",
    "TianBiaoRen",
    "ShenFenZheng",
    "ZhaoPian",
    "Version",
]


def sample_form(**overrides: object) -> ApprovalForm:
    form = ApprovalForm(
        name="王小明",
        sex="男",
        birth="198205",
        ethnicity="汉族",
        native_place="四川内江",
        birthplace="四川威远",
        party_join="200406",
        work_start="200407",
        health="健康",
        professional_title="经济师",
        expertise="财政预算管理",
        fulltime_education="大学",
        fulltime_degree="经济学学士",
        fulltime_education_school="四川大学经济学院经济学专业",
        fulltime_degree_school="四川大学经济学院",
        inservice_education="研究生",
        inservice_degree="经济学硕士",
        inservice_education_school="西南财经大学财政学专业",
        inservice_degree_school="西南财经大学",
        current_post="内江市财政局预算科科长",
        proposed_post="内江市财政局副局长",
        post_to_remove="内江市财政局预算科科长",
        resume=(
            "2000.09--2004.07  四川大学经济学院经济学专业学习\n"
            "2004.07--2015.03  四川省内江市财政局科员\n"
            "2015.03--  四川省内江市财政局预算科科长"
        ),
        rewards_punishments="2018年被评为全市优秀公务员",
        annual_appraisals="2023、2024、2025年度考核均为称职",
        appointment_reason="工作需要",
        family=(
            FamilyRow("妻子", "李某", "198401", "群众", "内江市第一中学教师"),
            FamilyRow("父亲", "王某某", "已故", "中共党员", "原内江市东兴区某乡干部"),
        ),
        submitting_unit="中共内江市委组织部",
        age_reference_date="20260301",
        retirement_age_basis="60岁",
        filled_on="20260301",
        filled_by="李晓红",
        id_number=ID_NUMBER,
        photo=PNG,
        version="3.2.1.16",
    )
    return dataclasses.replace(form, **overrides)  # type: ignore[arg-type]


def counts() -> tuple[int, int, int]:
    return Cadre.objects.count(), FamilyMember.objects.count(), Event.objects.count()


# The file layout ---------------------------------------------------------------------------------------


def test_every_form_field_has_an_element_and_a_label():
    names = [f.name for f in dataclasses.fields(ApprovalForm)]
    assert set(lrmx.ELEMENTS) == set(names) and set(lrmx.LABELS) == set(names)
    assert list(lrmx.ELEMENTS.values()) == ELEMENT_ORDER


def test_the_file_has_exactly_the_documented_elements_in_order():
    data = lrmx.build(sample_form())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(data)
    assert root.tag == "Person"
    assert [child.tag for child in root] == ELEMENT_ORDER
    items = root.find("JiaTingChengYuan")
    assert items is not None and [item.tag for item in items] == ["Item", "Item"]
    assert [c.tag for c in items[0]] == [
        "ChengWei",
        "XingMing",
        "ChuShengRiQi",
        "ZhengZhiMianMao",
        "GongZuoDanWeiJiZhiWu",
    ]
    assert [c.text for c in items[0]] == ["妻子", "李某", "198401", "群众", "内江市第一中学教师"]


def test_dates_resume_lines_and_photo_are_written_as_documented():
    data = lrmx.build(sample_form())
    root = ET.fromstring(data)
    assert root.findtext("ChuShengNianYue") == "198205"
    assert root.findtext("CanJiaGongZuoShiJian") == "200407"
    assert root.findtext("RuDangShiJian") == "200406"
    assert root.findtext("JiSuanNianLingShiJian") == "20260301"
    assert base64.b64decode(root.findtext("ZhaoPian") or "") == PNG
    # In the bytes the résumé lines are separated by CR LF (the parser above normalizes them).
    assert "学习\r\n2004.07--2015.03  四川省内江市财政局科员\r\n2015.03".encode() in data


def test_an_empty_version_is_written_as_3_2_1_16():
    root = ET.fromstring(lrmx.build(ApprovalForm()))
    assert root.findtext("Version") == "3.2.1.16"
    assert root.findtext("ZhaoPian") in (None, "")


def test_characters_xml_cannot_carry_are_dropped_on_export():
    form = lrmx.parse(lrmx.build(sample_form(name="王\x00小\x1b明")))
    assert form.name == "王小明"


# Round trip ----------------------------------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
OTHER = st.sampled_from([*"0123456789abcXYZ .-—·（）《》“”，。、；：<>&'\"\n\t", "𠮷", "䶮"])


def text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(st.one_of(CJK, OTHER), min_size=min_size, max_size=max_size)


def months() -> st.SearchStrategy[str]:
    return st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 1)).map(lambda d: d.strftime("%Y%m"))


photos = st.one_of(
    st.just(b""),
    st.binary(max_size=300).map(lambda b: lrmx.JPEG_MAGIC + b),
    st.binary(max_size=300).map(lambda b: lrmx.PNG_MAGIC + b),
)
family_rows = st.builds(
    FamilyRow,
    relation=text(10),
    name=text(20),
    birth=st.one_of(months(), text(10)),
    political_status=text(20),
    work_unit_position=text(60),
)
SPECIAL = {
    "resume": text(400),
    "family": st.lists(family_rows, max_size=lrmx.MAX_FAMILY_ROWS).map(tuple),
    "id_number": text(18),
    "photo": photos,
    "version": text(20, min_size=1),  # an empty version is written as the default
}
any_form = st.builds(ApprovalForm, **{f.name: SPECIAL.get(f.name, text(80)) for f in dataclasses.fields(ApprovalForm)})


@hypothesis_settings(deadline=None, database=None, max_examples=150)
@given(form=any_form)
def test_build_then_parse_gives_back_every_field(form: ApprovalForm):
    data = lrmx.build(form)
    assert lrmx.parse(data) == form
    assert lrmx.build(lrmx.parse(data)) == data


def test_build_of_parse_is_stable_for_a_file_from_other_software():
    foreign = (
        "<?xml version='1.0' encoding='utf-8'?>\r\n<Person>\r\n"
        "<Version>3.2.1.6</Version><XingMing>张三</XingMing><JianLi>1990.09--1994.07  学习\r\n"
        "1994.07--  工作</JianLi><DaoLingNianYue>204205</DaoLingNianYue>"
        "<JiaTingChengYuan><Item><XingMing>李四</XingMing><ChengWei>妻子</ChengWei></Item></JiaTingChengYuan>"
        "</Person>"
    ).encode()
    once = lrmx.build(lrmx.parse(foreign))
    assert lrmx.build(lrmx.parse(once)) == once
    form = lrmx.parse(once)
    assert form.version == "3.2.1.6" and form.resume == "1990.09--1994.07  学习\n1994.07--  工作"
    assert form.family == (FamilyRow(relation="妻子", name="李四"),)


def test_unknown_elements_are_ignored_and_reported():
    data = lrmx.build(sample_form()).replace(b"<Version>", b"<DaoLingNianYue>204205</DaoLingNianYue><Version>")
    result = lrmx.parse_with_warnings(data)
    assert result.form == sample_form()
    assert result.warnings == ("未识别的元素「DaoLingNianYue」已忽略。",)


# Encodings -----------------------------------------------------------------------------------------------


def gb_file(encoding: str, name: str = "张𠮷") -> bytes:
    body = lrmx.build(sample_form(name=name)).decode("utf-8")
    return body.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode("gb18030")


def test_a_gb18030_file_is_read():
    data = gb_file("GB18030")
    assert "张𠮷".encode("gb18030") in data and "张𠮷".encode() not in data
    assert lrmx.parse(data) == sample_form(name="张𠮷")


@pytest.mark.parametrize("encoding", ["GB2312", "gbk", "GBK"])
def test_a_file_declared_gb2312_or_gbk_is_read(encoding):
    assert lrmx.parse(gb_file(encoding, name="张伟")).name == "张伟"


def test_a_gb_file_without_declaration_is_refused_with_a_clear_message():
    data = lrmx.build(sample_form()).decode().replace('<?xml version="1.0" encoding="UTF-8"?>', "").encode("gb18030")
    with pytest.raises(LrmxError, match="UTF-8") as exc:
        lrmx.parse(data)
    assert exc.value.code == "lrmx_encoding"


# Hostile and broken files --------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Person [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Person><XingMing>&xxe;</XingMing></Person>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Person><XingMing>&lol4;</XingMing></Person>"""
PLAIN_DTD = b'<?xml version="1.0"?><!DOCTYPE Person SYSTEM "http://example.com/person.dtd"><Person></Person>'
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Person [<!ENTITY % remote SYSTEM "http://example.com/evil.dtd"> %remote;]><Person/>"""


def family_file(rows: int) -> bytes:
    return lrmx.build(sample_form(family=tuple(FamilyRow("子女", f"某{i}") for i in range(rows))))


HOSTILE = {
    "xxe_system_entity": (XXE, "lrmx_forbidden"),
    "billion_laughs": (BILLION_LAUGHS, "lrmx_forbidden"),
    "dtd": (PLAIN_DTD, "lrmx_forbidden"),
    "parameter_entity": (PARAMETER_ENTITY, "lrmx_forbidden"),
    "malformed": (b"<Person><XingMing>\xe5\xbc\xa0</Person>", "lrmx_malformed"),
    "not_xml": (b"%PDF-1.7 not a form", "lrmx_malformed"),
    "empty": (b"", "lrmx_malformed"),
    "wrong_root": (b'<?xml version="1.0"?><Cadre><XingMing>x</XingMing></Cadre>', "lrmx_wrong_root"),
    "bad_base64": (b"<Person><ZhaoPian>not base64 !!</ZhaoPian></Person>", "lrmx_bad_photo"),
    "photo_not_an_image": (
        b"<Person><ZhaoPian>" + base64.b64encode(b"GIF89a not allowed") + b"</ZhaoPian></Person>",
        "lrmx_bad_photo",
    ),
    "too_many_family_rows": (family_file(lrmx.MAX_FAMILY_ROWS + 1), "lrmx_too_many_family_rows"),
    "over_long_name": (b"<Person><XingMing>" + "长".encode() * 501 + b"</XingMing></Person>", "lrmx_too_long"),
    "over_long_resume": (b"<Person><JianLi>" + b"x" * 20001 + b"</JianLi></Person>", "lrmx_too_long"),
    "over_long_family_field": (
        b"<Person><JiaTingChengYuan><Item><XingMing>" + b"y" * 201 + b"</XingMing></Item></JiaTingChengYuan></Person>",
        "lrmx_too_long",
    ),
    "unknown_encoding": (b'<?xml version="1.0" encoding="EBCDIC-XYZ"?><Person/>', "lrmx_encoding"),
    "lying_gb_declaration": (b'<?xml version="1.0" encoding="GB18030"?><Person>\x81</Person>', "lrmx_encoding"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_or_broken_file_is_refused_with_a_chinese_message(name):
    data, code = HOSTILE[name]
    with pytest.raises(LrmxError) as exc:
        lrmx.parse(data)
    assert exc.value.code == code
    assert isinstance(exc.value, ApplicationError)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_exactly_thirty_family_rows_are_accepted():
    assert len(lrmx.parse(family_file(lrmx.MAX_FAMILY_ROWS)).family) == lrmx.MAX_FAMILY_ROWS


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    data = lrmx.build(sample_form())
    assert lrmx.parse(data, max_bytes=len(data)) == sample_form()
    with pytest.raises(LrmxError, match="上限") as exc:
        lrmx.parse(data, max_bytes=len(data) - 1)
    assert exc.value.code == "lrmx_too_large"


def test_the_xxe_payload_never_reaches_the_form():
    with pytest.raises(LrmxError, match="DTD"):
        lrmx.parse(XXE)


# Services: preview and import ----------------------------------------------------------------------------


def import_file(world: World, data: bytes, actor=None, **kwargs) -> Cadre:
    return cadre_lrmx_import(
        actor=actor or world.alice,
        org_unit=world.city,
        data=data,
        confirm_sha256=hashlib.sha256(data).hexdigest(),
        **({"current_rank": "township_chief"} | kwargs),
    )


def test_preview_of_a_new_person_lists_every_filled_field_and_changes_nothing(world: World):
    before = counts()
    data = lrmx.build(sample_form())
    preview = cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    assert counts() == before
    assert preview.cadre is None and preview.sha256 == hashlib.sha256(data).hexdigest()
    assert preview.suggested_post_since == "2015-03"
    by_label = {c.label: c for c in preview.changes}
    assert by_label["姓名"].new == "王小明" and by_label["姓名"].old == ""
    assert by_label["出生年月"].new == "1982.05"
    assert by_label["身份证号"].new == f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}"  # never shown whole
    assert by_label["照片"].new.startswith("PNG 图片")
    assert by_label["家庭成员第 2 行"].new == "父亲　王某某　已故　中共党员　原内江市东兴区某乡干部"


def test_import_creates_a_cadre_with_every_field_and_its_family(world: World):
    cadre = import_file(world, lrmx.build(sample_form()), current_post_since="", current_rank_since="2016-01")
    cadre.refresh_from_db()
    assert cadre.org_unit == world.city and cadre.name == "王小明" and cadre.id_number == ID_NUMBER
    assert cadre.birth_month == dt.date(1982, 5, 1) and cadre.work_start_month == dt.date(2004, 7, 1)
    assert cadre.party_join_month == dt.date(2004, 6, 1) and cadre.party_status == "中共党员"
    assert cadre.fulltime_school_major == "四川大学经济学院经济学专业"
    assert cadre.fulltime_degree_school == "四川大学经济学院" and cadre.inservice_degree_school == "西南财经大学"
    assert cadre.retirement_age_basis == "60岁"
    assert bytes(cadre.photo) == PNG and cadre.photo_kind == "png"
    assert cadre.current_rank == "township_chief"
    assert cadre.current_post_since == dt.date(2015, 3, 1)  # the résumé's open last line
    assert cadre.current_rank_since == dt.date(2016, 1, 1)
    assert cadre.approval_extra["proposed_post"] == "内江市财政局副局长"
    assert cadre.approval_extra["filled_by"] == "李晓红"
    family = list(cadre.family.values_list("relation", "name", "birth_month", "birth_text"))
    assert family == [("妻子", "李某", dt.date(1984, 1, 1), ""), ("父亲", "王某某", None, "已故")]


def test_a_new_cadre_needs_a_rank(world: World):
    before = counts()
    with pytest.raises(ApplicationError, match="现任职级"):
        import_file(world, lrmx.build(sample_form()), current_rank="")
    assert counts() == before


def test_an_imported_file_exports_back_unchanged(world: World):
    form = sample_form(party_join="民革", post_to_remove="")
    cadre = import_file(world, lrmx.build(form))
    exported = cadre_lrmx_export(actor=world.alice, cadre=Cadre.objects.get(pk=cadre.pk))
    assert lrmx.parse(exported) == form
    assert exported == lrmx.build(form)
    assert Cadre.objects.get(pk=cadre.pk).party_status == "民革"


db_forms = st.builds(
    ApprovalForm,
    name=text(20, min_size=1),
    sex=st.sampled_from(["男", "女"]),
    birth=months(),
    ethnicity=text(20, min_size=1),
    native_place=text(50, min_size=1),
    birthplace=text(50, min_size=1),
    party_join=st.one_of(months(), text(20)),
    work_start=months(),
    health=text(20, min_size=1),
    professional_title=text(50),
    expertise=text(100),
    fulltime_education=text(30),
    fulltime_degree=text(30),
    fulltime_education_school=text(100),
    fulltime_degree_school=text(100),
    inservice_education=text(30),
    inservice_degree=text(30),
    inservice_education_school=text(100),
    inservice_degree_school=text(100),
    current_post=text(100, min_size=1),
    proposed_post=text(100),
    post_to_remove=text(100),
    resume=text(300, min_size=1),
    rewards_punishments=text(200),
    annual_appraisals=text(200),
    appointment_reason=text(200),
    family=st.lists(
        st.builds(
            FamilyRow,
            relation=text(20, min_size=1),
            name=text(50, min_size=1),
            birth=st.one_of(months(), text(20)),
            political_status=text(30),
            work_unit_position=text(100),
        ),
        max_size=12,
    ).map(tuple),
    submitting_unit=text(100),
    age_reference_date=st.one_of(st.just(""), st.dates().map(lambda d: d.strftime("%Y%m%d"))),
    retirement_age_basis=text(20),
    filled_on=text(20),
    filled_by=text(20),
    id_number=st.sampled_from(["", ID_NUMBER]),
    photo=photos,
    version=text(20, min_size=1),
)


@hypothesis_settings(
    deadline=None, database=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=db_forms)
def test_any_form_imported_into_the_database_exports_back_unchanged(world: World, form: ApprovalForm):
    # Examples share the database, so later ones often update a cadre an earlier one created.
    cadre = import_file(world, lrmx.build(form), current_post_since="2020-01")
    assert lrmx.parse(cadre_lrmx_export(actor=world.bob, cadre=Cadre.objects.get(pk=cadre.pk))) == form


def test_import_updates_the_matching_cadre_and_the_diff_names_what_changed(world: World):
    cadre = import_file(world, lrmx.build(sample_form()))
    changed = sample_form(
        current_post="内江市财政局副局长",
        family=sample_form().family[:1],
        photo=JPEG,
        resume=sample_form().resume + "\n2026.03--  内江市财政局副局长",
    )
    data = lrmx.build(changed)
    preview = cadre_lrmx_preview(actor=world.bob, org_unit=world.city, data=data)
    assert preview.cadre == cadre
    assert [(c.field, c.label) for c in preview.changes] == [
        ("current_post", "现任职务"),
        ("resume", "简历"),
        ("family", "家庭成员第 2 行"),
        ("photo", "照片"),
    ]
    family_change = preview.changes[2]
    assert family_change.old.startswith("父亲　王某某") and family_change.new == ""
    assert preview.changes[3].old.startswith("PNG") and preview.changes[3].new.startswith("JPEG")

    updated = import_file(world, data, actor=world.bob, current_rank="")  # no rank needed for an update
    assert updated.pk == cadre.pk and Cadre.objects.filter(name="王小明").count() == 1
    updated.refresh_from_db()
    assert updated.current_post == "内江市财政局副局长" and updated.photo_kind == "jpeg"
    assert list(updated.family.values_list("name", flat=True)) == ["李某"]
    assert updated.current_rank == "township_chief"  # untouched by the form
    assert lrmx_diff(updated, changed) == []


def test_without_an_id_number_the_cadre_is_found_by_name_and_birth_month(world: World):
    existing = world.cadres[0]  # 张伟, born 1982-05, no ID number recorded
    data = lrmx.build(form_from_cadre(existing))
    data = data.replace("<JianKangZhuangKuang>健康<".encode(), "<JianKangZhuangKuang>良好<".encode())
    preview = cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    assert preview.cadre == existing
    assert [(c.label, c.old, c.new) for c in preview.changes] == [("健康状况", "健康", "良好")]


def test_a_cadre_of_another_unit_is_never_matched(world: World):
    county = world.county_cadre
    data = lrmx.build(form_from_cadre(county))
    preview = cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    assert preview.cadre is None


def test_import_writes_one_ledger_event_without_the_id_number(world: World):
    data = lrmx.build(sample_form())
    cadre = import_file(world, data)
    event = Event.objects.filter(action="cadre.lrmx_import").get()
    payload = json.loads(event.payload)
    assert event.subject_id == str(cadre.pk) and event.chain.fonds == "J001"
    assert payload["result"] == "created"
    assert payload["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert "name" in payload["fields"] and "family" in payload["fields"] and "photo" in payload["fields"]
    assert ID_NUMBER not in event.payload and ID_NUMBER[:17] not in event.payload
    assert "西南财经大学" not in event.payload  # field names, not values

    import_file(world, lrmx.build(sample_form(health="良好")))
    second = Event.objects.filter(action="cadre.lrmx_import").order_by("-seq").first()
    assert second is not None
    assert json.loads(second.payload)["result"] == "updated" and json.loads(second.payload)["fields"] == ["health"]


def test_import_with_a_stale_sha256_is_refused_and_changes_nothing(world: World):
    seen = lrmx.build(sample_form())
    other = lrmx.build(sample_form(name="王小红"))
    before = counts()
    with pytest.raises(LrmxError, match="不一致") as exc:
        cadre_lrmx_import(
            actor=world.alice,
            org_unit=world.city,
            data=other,
            confirm_sha256=hashlib.sha256(seen).hexdigest(),
            current_rank="staff",
        )
    assert exc.value.code == "lrmx_stale"
    assert counts() == before


@pytest.mark.parametrize("name", ["xxe_system_entity", "billion_laughs", "bad_base64", "wrong_root"])
def test_a_hostile_file_changes_nothing_through_the_services(world: World, name):
    data, _code = HOSTILE[name]
    before = counts()
    with pytest.raises(LrmxError):
        cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    with pytest.raises(LrmxError):
        import_file(world, data)
    assert counts() == before


def test_the_service_takes_the_size_limit_from_settings(world: World, settings):
    data = lrmx.build(sample_form())
    settings.LRMX_MAX_BYTES = len(data) - 1
    with pytest.raises(LrmxError) as exc:
        cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    assert exc.value.code == "lrmx_too_large"


def test_an_invalid_id_number_is_refused(world: World):
    before = counts()
    data = lrmx.build(sample_form(id_number=ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")))
    with pytest.raises(ApplicationError, match="身份证号"):
        cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)
    with pytest.raises(ApplicationError, match="身份证号"):
        import_file(world, data)
    assert counts() == before


def test_a_value_too_long_for_the_database_is_refused_at_preview(world: World):
    data = lrmx.build(sample_form(ethnicity="很长的民族名称" * 5))
    with pytest.raises(ApplicationError, match="民族"):
        cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=data)


def test_a_birth_month_that_is_not_yyyymm_is_refused(world: World):
    with pytest.raises(ApplicationError, match="出生年月应为 yyyyMM"):
        cadre_lrmx_preview(actor=world.alice, org_unit=world.city, data=lrmx.build(sample_form(birth="1982.05")))


def test_a_county_clerk_cannot_import_into_the_city(world: World):
    data = lrmx.build(sample_form())
    before = counts()
    with pytest.raises(PermissionDenied):
        cadre_lrmx_preview(actor=world.grace, org_unit=world.city, data=data)
    with pytest.raises(PermissionDenied):
        import_file(world, data, actor=world.grace)
    assert counts() == before


@pytest.mark.parametrize("who", ["carol", "dave", "erin", "frank", "oscar"])
def test_only_clerks_and_section_heads_import(world: World, who):
    with pytest.raises(PermissionDenied):
        import_file(world, lrmx.build(sample_form()), actor=world.users[who])
    assert not Event.objects.filter(action="cadre.lrmx_import").exists()


# Export --------------------------------------------------------------------------------------------------


def test_export_of_a_cadre_writes_months_as_yyyymm_and_records_an_event(world: World):
    cadre = world.cadres[0]
    data = cadre_lrmx_export(actor=world.alice, cadre=cadre)
    root = ET.fromstring(data)
    assert root.findtext("XingMing") == "张伟"
    assert root.findtext("ChuShengNianYue") == "198205"
    assert root.findtext("RuDangShiJian") == "200406"
    assert root.findtext("CanJiaGongZuoShiJian") == "200407"
    assert root.findtext("QuanRiZhiJiaoYu_XueLi_BiYeYuanXiaoXi") == "四川大学经济学院经济学专业"
    assert (
        root.findtext("JianLi") == "2004.07--2015.03  四川省内江市财政局科员\n2015.03--  四川省内江市财政局预算科科长"
    )
    assert root.findtext("JiaTingChengYuan/Item/ChuShengRiQi") == "198401"
    event = Event.objects.filter(action="cadre.lrmx_export").get()
    assert event.subject_id == str(cadre.pk)
    assert json.loads(event.payload)["file_sha256"] == hashlib.sha256(data).hexdigest()


def test_export_for_a_nomination_fills_the_proposed_post_unit_and_age_date(world: World, batch: Batch):
    nomination = batch.nominations.select_related("cadre", "position", "batch__org_unit").first()
    assert nomination is not None
    with time_machine.travel(aware(2026, 3, 1, 4), tick=False):
        data = cadre_lrmx_export(actor=world.bob, cadre=nomination.cadre, nomination=nomination)
    form = lrmx.parse(data)
    assert form.proposed_post == "内江市发展和改革委员会副主任"
    assert form.submitting_unit == "中共内江市委组织部"
    assert form.age_reference_date == "20260301"
    event = Event.objects.filter(action="cadre.lrmx_export").get()
    assert json.loads(event.payload)["nomination"] == nomination.number


def test_export_refuses_a_nomination_of_another_cadre(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    other = next(c for c in world.cadres if c.pk != nomination.cadre_id)
    with pytest.raises(ApplicationError):
        cadre_lrmx_export(actor=world.alice, cadre=other, nomination=nomination)


def test_a_county_clerk_cannot_export_a_city_cadre(world: World):
    with pytest.raises(PermissionDenied):
        cadre_lrmx_export(actor=world.grace, cadre=world.cadres[0])
    assert not Event.objects.filter(action="cadre.lrmx_export").exists()
