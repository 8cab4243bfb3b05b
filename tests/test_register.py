"""The 台账: one row per person, every step's date and responsible people, filters, scope, Excel export."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone
from openpyxl import load_workbook

from jishi import urls as project_urls
from jishi.accounts.models import User
from jishi.cadres.services import cadre_create
from jishi.core.testing import SIGNING_PIN, World, cadre_data
from jishi.documents.register import Register, register_rows
from jishi.documents.register_xlsx import register_xlsx
from jishi.ledger.models import Event
from jishi.selection.models import Batch
from jishi.selection.services import batch_create, nomination_add, nomination_drop, step_correct, step_waive
from jishi.selection.walk import walk
from tests.batches import finished_with_y04_waived

# The documents URLs are not wired into the project yet; this module serves as the test URLconf.
urlpatterns = [*project_urls.urlpatterns, path("documents/", include("jishi.documents.urls_register"))]
pytestmark = pytest.mark.urls(__name__)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _walk_until(batch: Batch, world: World, step_id: str) -> None:
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == step_id)


def _register(user, **filters) -> Register:
    return register_rows(
        user=user,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        org_unit_id=filters.get("org_unit_id"),
        include_dropped=filters.get("include_dropped", False),
    )


def _cell(register: Register, row_index: int, step_id: str):
    index = [c.step_id for c in register.columns].index(step_id)
    return register.rows[row_index].cells[index]


def _county_batch(world: World) -> Batch:
    county = batch_create(
        actor=world.grace, org_unit=world.county, title="2026年威远县科级干部调整", positions=[world.county_position]
    )
    nomination_add(actor=world.grace, batch=county, cadre=world.county_cadre, position=world.county_position)
    return county


def test_each_person_is_one_row_with_every_steps_date_and_responsible_people(world: World, batch: Batch):
    _walk_until(batch, world, "D08")
    register = _register(world.alice)
    today = timezone.localdate()

    assert [row.name for row in register.rows] == ["张伟", "刘洋", "杨帆"]
    first = register.rows[0]
    nomination = batch.nominations.order_by("id").first()
    assert (first.batch_number, first.number, first.unit) == (batch.number, nomination.number, "内江市委组织部")
    assert (first.current_post, first.proposed_post) == ("内江市财政局预算科科长", "内江市发展和改革委员会副主任")
    assert first.status == "进行中"
    # Columns in procedure order, grouped by stage.
    definition = batch.procedure.definition
    assert [c.step_id for c in register.columns] == [s.id for s in definition.steps()]
    assert [g.name for g in register.stages] == [s.name for s in definition.stages]
    # A batch step: the batch's record, the same for everyone; completer first, then the confirmers.
    for index in range(3):
        d03 = _cell(register, index, "D03")
        assert (d03.state, d03.date, d03.people) == ("done", today, ("李晓红", "王建国", "陈志远"))
    # A person's own step comes from that person's record.
    d06 = _cell(register, 1, "D06")
    assert d06.state == "done" and d06.people == ("李晓红", "王建国", "周正清")
    assert _cell(register, 0, "D08").state == "" and _cell(register, 0, "D08").date is None


def test_a_waived_step_is_marked_and_a_correction_replaces_the_record_it_corrects(world: World, batch: Batch):
    _walk_until(batch, world, "D05")
    step_waive(
        actor=world.carol,
        batch=batch,
        step_id="D05",
        reason="本批次不涉及事前报告事项",
        legal_basis="《条例》第五十五条",
        pin=SIGNING_PIN,
    )
    d04 = batch.records.get(step_id="D04")
    changed = str(int(d04.data["to_remove"]) + 1)
    step_correct(actor=world.bob, record=d04, reason="拟免职数笔误", data={"to_remove": changed}, pin=SIGNING_PIN)

    register = _register(world.alice)
    waived = _cell(register, 0, "D05")
    assert waived.state == "waived" and waived.people == ("陈志远",) and waived.people_text == "免除（陈志远）"
    corrected = _cell(register, 0, "D04")
    # The original was completed by 李晓红 and confirmed by three people; the correction is 王建国's alone.
    assert corrected.state == "done" and corrected.people == ("王建国",)

    workbook = load_workbook(io.BytesIO(register_xlsx(register)))
    ws = workbook["台账"]
    headers = [ws.cell(row=4, column=c).value for c in range(1, ws.max_column + 1)]
    d05_column = headers.index("D05 事前报告事项审核报批") + 1
    assert ws.cell(row=6, column=d05_column + 1).value == "免除（陈志远）"
    assert ws.cell(row=6, column=d05_column).value.date() == timezone.localdate()


def test_a_person_who_finished_every_step_is_marked_finished(world: World):
    finished_with_y04_waived(world)
    register = _register(world.alice)
    assert [row.status for row in register.rows] == ["已完成"] * 3
    assert _cell(register, 2, "Y04").state == "waived"


def test_dropped_people_are_left_out_unless_asked_for(world: World, batch: Batch):
    dropped = batch.nominations.order_by("id").last()
    nomination_drop(actor=world.bob, nomination=dropped, reason="本人申请不参加本次调整")

    assert [row.name for row in _register(world.alice).rows] == ["张伟", "刘洋"]
    rows = _register(world.alice, include_dropped=True).rows
    assert [(row.name, row.status) for row in rows] == [("张伟", "进行中"), ("刘洋", "进行中"), ("杨帆", "已退出")]


def test_only_batches_of_units_the_user_may_view_are_listed(world: World, batch: Batch):
    _county_batch(world)

    assert {row.name for row in _register(world.alice).rows} == {"张伟", "刘洋", "杨帆"}
    assert {row.name for row in _register(world.grace).rows} == {"孙浩"}
    # 部领导 sees the county below; the unit filter narrows to it.
    assert {row.name for row in _register(world.carol).rows} == {"张伟", "刘洋", "杨帆", "孙浩"}
    assert [row.name for row in _register(world.carol, org_unit_id=world.county.pk).rows] == ["孙浩"]
    # Asking for a unit one may not view gives nothing, not its rows.
    assert _register(world.alice, org_unit_id=world.county.pk).rows == ()
    assert _register(world.oscar).rows == ()


def test_the_period_filter_uses_the_day_the_person_was_proposed(world: World):
    zone = timezone.get_current_timezone()
    first_day = timezone.localdate() + dt.timedelta(days=10)
    second_day = first_day + dt.timedelta(days=30)
    with time_machine.travel(dt.datetime.combine(first_day, dt.time(23, 30), tzinfo=zone), tick=False):
        batch = batch_create(actor=world.alice, org_unit=world.city, title="跨月批次", positions=world.positions)
        nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[0], position=world.positions[0])
    with time_machine.travel(dt.datetime.combine(second_day, dt.time(0, 30), tzinfo=zone), tick=False):
        nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[1], position=world.positions[0])

    # Late evening and just after midnight, local time: the days are the office's days, not UTC's.
    assert [r.name for r in _register(world.alice, date_from=first_day, date_to=first_day).rows] == ["张伟"]
    assert [r.name for r in _register(world.alice, date_from=first_day + dt.timedelta(days=1)).rows] == ["刘洋"]
    assert [r.name for r in _register(world.alice, date_to=second_day - dt.timedelta(days=1)).rows] == ["张伟"]
    assert [r.added_at for r in _register(world.alice).rows] == [first_day, second_day]


def test_the_query_count_does_not_grow_with_the_number_of_people(
    world: World, batch: Batch, django_assert_max_num_queries
):
    _walk_until(batch, world, "D08")
    with CaptureQueriesContext(connection) as three:
        assert len(_register(world.alice).rows) == 3

    more = [world.cadres[3]] + [
        cadre_create(actor=None, org_unit=world.city, data=cadre_data(name))
        for name in ("钱进", "孙立", "李平", "周安", "吴刚", "郑和")
    ]
    for cadre in more:
        nomination_add(actor=world.alice, batch=batch, cadre=cadre, position=world.positions[1])
    _walk_until(batch, world, "D08")  # the newcomers' own D06 and D07 records
    with django_assert_max_num_queries(len(three.captured_queries)):
        register = _register(world.alice)
    assert len(register.rows) == 10
    assert all(_cell(register, i, "D07").state == "done" for i in range(10))


def test_the_excel_workbook_has_title_stage_and_step_headers_frozen_panes_and_real_dates(world: World, batch: Batch):
    _walk_until(batch, world, "D08")
    workbook = load_workbook(io.BytesIO(register_xlsx(_register(world.alice))))

    assert workbook.sheetnames == ["台账"] and workbook.properties.title == "干部选拔任用工作台账"
    ws = workbook["台账"]
    assert ws["A1"].value == "干部选拔任用工作台账"
    assert "提出时间 不限 至 不限" in ws["A2"].value and "共 3 人" in ws["A2"].value
    assert [ws.cell(row=3, column=c).value for c in range(1, 8)] == [
        "批次编号",
        "纪实表编号",
        "单位",
        "姓名",
        "现任职务",
        "拟任职务",
        "状态",
    ]
    merged = {str(r) for r in ws.merged_cells.ranges}
    # 7 fixed + 44 steps × 2 = 95 columns (CQ). 动议 has nine steps, two columns each: H..Y;
    # D01 over H:I with 日期 / 责任人 under it.
    assert {"A1:CQ1", "A3:A5", "H3:Y3", "H4:I4", "J4:K4"} <= merged
    assert (ws["H3"].value, ws["H4"].value, ws["H5"].value, ws["I5"].value) == (
        "动议",
        "D01 听取党委（党组）意见",
        "日期",
        "责任人",
    )
    assert ws.freeze_panes == "E6"
    assert ws.column_dimensions["A"].width == 18 and ws.column_dimensions["H"].width == 11
    assert [ws.cell(row=r, column=4).value for r in (6, 7, 8)] == ["张伟", "刘洋", "杨帆"]
    date_cell = ws["H6"]
    assert isinstance(date_cell.value, dt.datetime) and date_cell.value.date() == timezone.localdate()
    assert date_cell.number_format == "yyyy-mm-dd"
    assert ws["I6"].value == "李晓红、王建国"


def test_exporting_the_register_writes_an_access_event_in_the_actors_chain(world: World, batch: Batch):
    today = timezone.localdate().isoformat()
    response = _client(world.alice).get(
        reverse("register_export"), {"date_from": today, "org_unit": world.city.pk, "include_dropped": "on"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content))["台账"]
    assert [ws.cell(row=r, column=4).value for r in (6, 7, 8)] == ["张伟", "刘洋", "杨帆"]

    event = Event.objects.get(action="register.export")
    payload = json.loads(event.payload)
    assert event.chain.fonds == "J001" and event.actor == world.alice
    assert payload["filters"] == {
        "date_from": today,
        "date_to": None,
        "org_unit": world.city.pk,
        "include_dropped": True,
    }
    assert payload["rows"] == 3 and payload["batches"] == [batch.number]
    assert payload["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_a_county_clerks_export_is_recorded_in_the_county_chain(world: World, batch: Batch):
    _county_batch(world)
    response = _client(world.grace).get(reverse("register_export"))

    assert response.status_code == 200
    event = Event.objects.get(action="register.export")
    assert event.chain.fonds == "J002" and json.loads(event.payload)["rows"] == 1


def test_the_register_page_filters_with_a_get_form_and_links_the_export(world: World, batch: Batch):
    _county_batch(world)
    response = _client(world.carol).get(reverse("register"), {"org_unit": world.county.pk})

    body = response.content.decode()
    assert response.status_code == 200
    assert "孙浩" in body and "张伟" not in body and "威远县委组织部" in body
    assert f"{reverse('register_export')}?org_unit={world.county.pk}" in body
    assert 'method="get"' in body and "含已退出人选" in body
    assert not Event.objects.filter(action="register.export").exists()  # viewing the page is not an export


def test_a_reversed_period_is_explained_on_the_form(world: World, batch: Batch):
    response = _client(world.alice).get(reverse("register"), {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert response.status_code == 400 and "起始日期不能晚于截止日期" in response.content.decode()
    export = _client(world.alice).get(reverse("register_export"), {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert export.status_code == 400 and not Event.objects.filter(action="register.export").exists()


def test_oscar_without_any_role_is_refused_the_register_and_its_export(world: World, batch: Batch):
    client = _client(world.oscar)
    assert client.get(reverse("register")).status_code == 403
    assert client.get(reverse("register_export")).status_code == 403
    assert not Event.objects.filter(action="register.export").exists()


def test_the_register_page_shows_one_page_of_people_and_the_export_every_one(
    world: World, batch: Batch, monkeypatch: pytest.MonkeyPatch
):
    from jishi.documents import register as register_module

    monkeypatch.setattr(register_module, "PAGE_SIZE", 2)
    first = register_rows(user=world.alice, date_from=None, date_to=None, org_unit_id=None, page=1)
    second = register_rows(user=world.alice, date_from=None, date_to=None, org_unit_id=None, page=2)
    assert (first.total, first.pages, len(first.rows)) == (3, 2, 2)
    assert (second.page, len(second.rows)) == (2, 1)
    numbers = [r.number for r in first.rows + second.rows]
    assert numbers == [r.number for r in _register(world.alice).rows]
    assert register_rows(user=world.alice, date_from=None, date_to=None, org_unit_id=None, page=99).page == 2

    page = _client(world.alice).get(reverse("register"), {"page": "2", "include_dropped": "on"})
    body = page.content.decode()
    assert page.status_code == 200 and "共 3 人" in body and "第 2 / 2 页" in body
    assert numbers[2] in body and numbers[0] not in body
    assert "include_dropped=on&amp;page=1" in body
    workbook = load_workbook(io.BytesIO(_client(world.alice).get(reverse("register_export"), {"page": "2"}).content))
    exported = "\n".join(str(c.value) for row in workbook.active.iter_rows() for c in row if c.value)
    assert all(number in exported for number in numbers)


def test_the_page_shows_each_cells_state_date_and_people_with_names_escaped(world: World, batch: Batch):
    User.objects.filter(pk=world.alice.pk).update(full_name="<b>李娜</b>")
    _walk_until(batch, world, "D02")
    day = timezone.localdate().isoformat()

    body = _client(world.bob).get(reverse("register")).content.decode()

    assert f'<td class="cell-done" data-state="done"><div class="date">{day}</div>' in body
    assert '<div class="small">&lt;b&gt;李娜&lt;/b&gt;' in body and "<b>李娜</b>" not in body
    assert '<td class="cell-none" data-state=""></td>' in body
    assert body.count('<td class="cell-') == 3 * len(_register(world.bob).columns)
