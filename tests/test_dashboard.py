"""监督看板 and the warning pages: counts and links, unit scope, deadlines, stage times, key posts first,
the signed explanation."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import User
from jishi.accounts.services import role_grant, user_create
from jishi.cadres.services import position_set_key_post
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD, SIGNING_PIN, World
from jishi.ledger.models import Event, Signature
from jishi.selection.models import Batch, Nomination
from jishi.selection.services import batch_create, nomination_add
from jishi.selection.walk import walk, walk_step
from jishi.supervision import dashboard
from jishi.supervision.models import EarlyWarning, WarningStatus
from jishi.supervision.rules import Finding
from jishi.supervision.services import key_post_review, warning_raise

pytestmark = pytest.mark.urls("tests.urls_dashboard")

TZ = dt.timezone(dt.timedelta(hours=8))


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _county_supervisor(world: World) -> User:
    user = user_create(
        actor=None, org_unit=world.county, username="victor", full_name="何监督", title="", password=PASSWORD
    )
    role_grant(actor=None, user=user, org_unit=world.county, role=Role.SUPERVISION)
    return user


def _warn(
    unit,
    code: str,
    severity: str,
    message: str,
    *,
    batch: Batch | None = None,
    nomination: Nomination | None = None,
    due_on: dt.date | None = None,
    key: str = "",
) -> EarlyWarning:
    warning = warning_raise(
        finding=Finding(code=code, severity=severity, message=message, basis="《条例》", due_on=due_on),
        org_unit=unit,
        fingerprint=f"{code}:{unit.code}:{message}:{key}",
        batch=batch,
        nomination=nomination,
        step_id="D01" if batch else "",
    )
    assert warning is not None
    return warning


def _county_batch(world: World) -> Batch:
    b = batch_create(actor=world.grace, org_unit=world.county, title="威远县第一批", positions=[world.county_position])
    nomination_add(actor=world.grace, batch=b, cadre=world.county_cadre, position=world.county_position)
    return b


def _row(body: str, attr: str, value: str) -> str:
    match = re.search(rf'<tr[^>]*{attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', body, re.S)
    assert match, f"no row {attr}={value}"
    return match.group(1)


# Counts and links ------------------------------------------------------------------------------------


def test_the_dashboard_counts_open_warnings_by_unit_and_severity_and_links_each_number(world: World, batch: Batch):
    nomination = batch.nominations.first()
    _warn(world.city, "W24", "block", "任职年限不足", batch=batch, nomination=nomination)
    _warn(world.city, "W10", "warn", "公示期不足", batch=batch, key="a")
    _warn(world.city, "W10", "warn", "公示期不足", batch=batch, key="b")
    closed = _warn(world.city, "W10", "info", "已经处理", batch=batch, key="c")
    EarlyWarning.objects.filter(pk=closed.pk).update(status=WarningStatus.RESOLVED)
    _warn(world.county, "W99", "info", "县里的提示", batch=_county_batch(world))

    response = _client(world.erin).get(reverse("supervision_dashboard"))
    body = response.content.decode()

    assert response.status_code == 200
    city = _row(body, "data-unit", "J001")
    numbers = re.findall(r'<a href="[^"]*">(\d+)</a>', city)
    assert numbers == ["1", "2", "0", "3"]  # 阻断, 预警, 提示, 合计 (the resolved one is not counted)
    assert re.findall(r'<a href="[^"]*">(\d+)</a>', _row(body, "data-unit", "J002")) == ["0", "0", "1", "1"]
    unit_link = f"/supervision/warnings/?unit={world.city.pk}&amp;severity=warn&amp;status=open"
    assert unit_link in city
    w10 = _row(body, "data-rule", "W10")
    assert re.findall(r'<a href="[^"]*">(\d+)</a>', w10) == ["0", "2", "0", "2"]
    w99 = _row(body, "data-rule", "W99")
    assert "<td>W99</td><td>W99</td>" in w99  # an unregistered rule is shown by its code

    link = re.search(r'<a href="([^"]*)">2</a>', w10)
    assert link is not None
    listed = _client(world.erin).get(link.group(1).replace("&amp;", "&")).content.decode()
    assert listed.count("data-warning=") == 2 and "公示期不足" in listed and "任职年限不足" not in listed


def test_a_county_supervisor_does_not_see_the_city_warnings(world: World, batch: Batch):
    city_warning = _warn(world.city, "W24", "block", "市里的阻断预警", batch=batch)
    _warn(world.county, "W10", "warn", "县里的预警", batch=_county_batch(world))
    victor = _county_supervisor(world)
    client = _client(victor)

    body = client.get(reverse("supervision_dashboard")).content.decode()
    assert 'data-unit="J002"' in body and 'data-unit="J001"' not in body
    assert 'data-rule="W10"' in body and 'data-rule="W24"' not in body
    assert batch.number not in body

    listed = client.get(reverse("warning_list")).content.decode()
    assert "县里的预警" in listed and "市里的阻断预警" not in listed
    assert client.get(reverse("warning_list") + f"?unit={world.city.pk}").content.decode().count("data-warning=") == 0
    assert client.get(reverse("warning_detail", args=[city_warning.pk])).status_code == 403


def test_people_without_a_supervisory_role_are_refused_the_dashboard(world: World):
    for name in ("alice", "frank", "sam", "oscar"):
        client = _client(world.users[name])
        assert client.get(reverse("supervision_dashboard")).status_code == 403, name
        assert client.get(reverse("warning_list")).status_code == 403, name
    for name in ("bob", "carol", "dave", "erin", "grace"):
        assert _client(world.users[name]).get(reverse("supervision_dashboard")).status_code == 200, name


def test_the_charts_take_their_numbers_from_embedded_json_without_inline_script(world: World, batch: Batch):
    _warn(world.city, "W24", "block", "任职年限不足", batch=batch)
    body = _client(world.erin).get(reverse("supervision_dashboard")).content.decode()

    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', body, re.S)[1])
    assert data["rules"]["labels"] == ["W24"] and data["rules"]["values"] == [1]
    assert {s["code"]: s["value"] for s in data["severity"]} == {"block": 1, "warn": 0, "info": 0}
    assert data["stages"]["batches"] == [batch.number]
    assert "/static/vendor/echarts.min.js" in body and "/static/js/dashboard.js" in body
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert all(not code.strip() for attrs, code in scripts if "src=" in attrs)


# Deadlines -------------------------------------------------------------------------------------------


def test_deadlines_are_sorted_by_date_and_overdue_ones_are_marked(world: World, batch: Batch):
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, 0, tzinfo=TZ), tick=False):
        later = _warn(world.city, "W40", "warn", "十二天后到期", batch=batch, due_on=dt.date(2026, 12, 22))
        overdue = _warn(world.city, "W41", "warn", "已经逾期", batch=batch, due_on=dt.date(2026, 12, 7))
        soon = _warn(world.city, "W42", "info", "两天后到期", batch=batch, due_on=dt.date(2026, 12, 12))
        _warn(world.city, "W43", "warn", "一个月后到期", batch=batch, due_on=dt.date(2027, 1, 30))
        _warn(world.city, "W44", "warn", "没有期限", batch=batch)

        rows = dashboard.deadlines(world.erin)
        body = _client(world.erin).get(reverse("supervision_dashboard")).content.decode()
        wider = _client(world.erin).get(reverse("supervision_dashboard") + "?days=60").content.decode()

    assert [d.warning.pk for d in rows] == [overdue.pk, soon.pk, later.pk]
    assert [d.days_left for d in rows] == [-3, 2, 12] and [d.overdue for d in rows] == [True, False, False]
    section = body[body.index('id="deadlines"') :]
    assert section.index("已经逾期") < section.index("两天后到期") < section.index("十二天后到期")
    assert "一个月后到期" not in section and "没有期限" not in section
    overdue_row = re.search(rf'<tr class="([^"]*)" data-warning="{overdue.pk}">(.*?)</tr>', section, re.S)
    assert overdue_row and "sv-overdue" in overdue_row[1] and "已逾期 3 天" in overdue_row[2]
    soon_row = re.search(rf'<tr class="([^"]*)" data-warning="{soon.pk}">', section)
    assert soon_row and "sv-overdue" not in soon_row[1]
    assert "一个月后到期" in wider[wider.index('id="deadlines"') :]


# Batch progress --------------------------------------------------------------------------------------


def test_stage_times_of_a_walked_batch_run_from_first_start_to_last_completion(world: World):
    signers = world.signers()
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=TZ), tick=False):
        b = batch_create(actor=world.alice, org_unit=world.city, title="进度", positions=world.positions)
        nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
        walk_step(batch=b, step_id="D01", nomination=None, actor=world.alice, signers=signers, pin=SIGNING_PIN)
    first_stage = {s.id for s in b.procedure.definition.stages[0].steps}
    with time_machine.travel(dt.datetime(2026, 11, 4, 21, 0, tzinfo=TZ), tick=False):
        # The rest of 动议 two and a half days later.
        walk(batch=b, actor=world.bob, signers=signers, pin=SIGNING_PIN, stop=lambda s, n: s not in first_stage)
    with time_machine.travel(dt.datetime(2026, 11, 6, 9, 0, tzinfo=TZ), tick=False):
        walk_step(batch=b, step_id="T01", nomination=None, actor=world.alice, signers=signers, pin=SIGNING_PIN)
    with time_machine.travel(dt.datetime(2026, 11, 7, 9, 0, tzinfo=TZ), tick=False):
        rows = dashboard.batch_progress(world.erin)
        body = _client(world.erin).get(reverse("supervision_dashboard")).content.decode()

    (row,) = rows
    assert row.stage == "民主推荐"
    assert [(s.name, s.days, s.ongoing) for s in row.stage_times] == [("动议", 2.5, False), ("民主推荐", 1.0, True)]
    steps_done = b.records.count()
    assert row.done == steps_done and row.total > steps_done
    progress = _row(body, "data-batch", b.number)
    assert f"{steps_done}/{row.total}" in progress and reverse("batch_detail", args=[b.pk]) in progress
    assert "动议 <strong>2.5</strong>" in progress and "民主推荐 <strong>1.0</strong>" in progress


def test_an_unfinished_batch_is_listed_and_a_clerk_has_no_dashboard_units(world: World, batch: Batch):
    body = _client(world.erin).get(reverse("supervision_dashboard")).content.decode()
    assert f'data-batch="{batch.number}"' in body
    assert dashboard.batch_progress(world.alice) == []  # a clerk has no dashboard units


# Key posts -------------------------------------------------------------------------------------------


def test_key_posts_are_listed_first_with_their_review_status(world: World, batch: Batch):
    key_position = world.positions[1]
    position_set_key_post(actor=world.bob, position=key_position, is_key_post=True, reason="财政局副局长为重要岗位")
    newer = batch_create(actor=world.alice, org_unit=world.city, title="较新的批次", positions=[world.positions[0]])
    nomination_add(actor=world.alice, batch=newer, cadre=world.cadres[3], position=world.positions[0])
    key_nomination = batch.nominations.get(position=key_position)

    client = _client(world.erin)
    body = client.get(reverse("supervision_dashboard")).content.decode()

    assert body.index('id="key-posts"') < body.index('id="by-severity"') < body.index('id="progress"')
    key_row = _row(body, "data-nomination", key_nomination.number)
    assert "杨帆" in key_row and "待审核" in key_row
    assert body.count("data-nomination=") == 1
    progress = body[body.index('id="progress"') :]
    assert progress.index(batch.number) < progress.index(newer.number)  # older, but it has a key post
    assert "重要岗位" in _row(progress, "data-batch", batch.number)

    key_post_review(actor=world.erin, nomination=key_nomination, approved=True, opinion="同意", pin=SIGNING_PIN)
    body = client.get(reverse("supervision_dashboard")).content.decode()
    assert "审核同意" in _row(body, "data-nomination", key_nomination.number)


# Warning detail and the signed explanation -----------------------------------------------------------


def test_the_warning_page_shows_rule_basis_subjects_and_history(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    warning = _warn(world.city, "W24", "warn", "任职年限不足", batch=batch, nomination=nomination)
    body = _client(world.erin).get(reverse("warning_detail", args=[warning.pk])).content.decode()
    assert "任职年限不足" in body and "《条例》" in body
    assert reverse("batch_detail", args=[batch.pk]) in body
    assert reverse("nomination_detail", args=[nomination.pk]) in body
    assert reverse("step_nomination", args=[nomination.pk, "D01"]) in body
    assert "发出预警" in body and reverse("trace_warning", args=[warning.pk]) in body


def test_a_warning_is_explained_through_its_page_with_a_signature(world: World, batch: Batch):
    warning = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    client = _client(world.erin)
    assert 'name="explanation"' in client.get(reverse("warning_detail", args=[warning.pk])).content.decode()

    response = client.post(
        reverse("warning_explain", args=[warning.pk]),
        {"explanation": "公示期遇国庆假期，已按规定顺延。", "pin": SIGNING_PIN},
    )

    assert response.status_code == 302 and response["Location"] == reverse("warning_detail", args=[warning.pk])
    warning.refresh_from_db()
    assert warning.status == WarningStatus.EXPLAINED and warning.closed_by == world.erin
    event = Event.objects.get(action="warning.explain", subject_type="earlywarning", subject_id=str(warning.pk))
    assert event.hash == warning.closing_event_hash
    assert Signature.objects.filter(event=event, signer="erin", role="approver").exists()
    body = client.get(reverse("warning_detail", args=[warning.pk])).content.decode()
    assert "已说明" in body and "公示期遇国庆假期" in body and 'name="explanation"' not in body


def test_a_wrong_pin_keeps_the_typed_explanation_and_shows_the_error(world: World, batch: Batch):
    warning = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    response = _client(world.erin).post(
        reverse("warning_explain", args=[warning.pk]), {"explanation": "已按规定顺延公示期。", "pin": "000000"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "已按规定顺延公示期。" in body and "口令" in body
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
    assert not Event.objects.filter(action="warning.explain").exists()


def test_a_blocking_warning_cannot_be_explained(world: World, batch: Batch):
    warning = _warn(world.city, "W24", "block", "任职年限不足", batch=batch)
    client = _client(world.erin)
    page = client.get(reverse("warning_detail", args=[warning.pk])).content.decode()
    assert 'name="explanation"' not in page and "阻断类预警不能以说明结束" in page

    response = client.post(
        reverse("warning_explain", args=[warning.pk]), {"explanation": "情况特殊，请予理解。", "pin": SIGNING_PIN}
    )

    assert response.status_code == 400 and "阻断类预警不能以说明结束" in response.content.decode()
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_the_clerk_whose_work_it_is_may_read_the_warning_but_not_explain_it(world: World, batch: Batch):
    warning = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    client = _client(world.alice)
    page = client.get(reverse("warning_detail", args=[warning.pk]))
    assert page.status_code == 200 and 'name="explanation"' not in page.content.decode()
    response = client.post(
        reverse("warning_explain", args=[warning.pk]), {"explanation": "我来说明一下情况。", "pin": SIGNING_PIN}
    )
    assert response.status_code == 403
    assert _client(world.oscar).get(reverse("warning_detail", args=[warning.pk])).status_code == 403


def test_the_warning_list_filters_and_pages_keep_the_filters(world: World, batch: Batch):
    for i in range(55):
        _warn(world.city, "W10", "warn", f"第{i}条", batch=batch, key=str(i))
    _warn(world.city, "W24", "block", "阻断", batch=batch)
    client = _client(world.erin)
    first = client.get(reverse("warning_list") + "?rule=W10&status=open").content.decode()
    assert first.count("data-warning=") == 50 and "阻断" not in first.split('id="warnings"')[1]
    assert "?rule=W10&amp;status=open&amp;page=2" in first
    second = client.get(reverse("warning_list") + "?rule=W10&status=open&page=2").content.decode()
    assert second.count("data-warning=") == 5
    assert client.get(reverse("warning_list") + "?severity=bogus&unit=x").status_code == 200  # ignored, not 500
