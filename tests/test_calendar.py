"""工作日历: working days over 国庆/中秋 2025 (holidays and 调休), a year the library has no data for, the
coverage warning, the calendar page and its overrides, and the reminder to system administrators."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import User
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.supervision.calendar import WorkCalendar, library_covers
from jishi.supervision.calendar_admin import calendar_warn_admins, workday_override_remove
from jishi.supervision.models import Notification, WorkdayOverride
from jishi.supervision.selectors_calendar import calendar_coverage, work_calendar
from jishi.supervision.services import notification_read, workday_override_set

TZ = dt.timezone(dt.timedelta(hours=8))
NOV_2026 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
WARNING_2027 = (
    "2027 年的法定节假日安排尚未收录：工作日暂按周一至周五计算，并以管理员录入的调整为准。请在国务院办公厅公布后录入。"
)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _working_days(calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [day for day in days if calendar.is_working_day(day)]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _cell(body: str, day: str) -> str:
    match = re.search(rf'<td[^>]*data-day="{day}"[^>]*>.*?</td>', body, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


# The pure calendar: 国庆节、中秋节 2025 ---------------------------------------------------------------------
# 国务院办公厅: 10月1日至8日放假调休，共8天；9月28日（周日）、10月11日（周六）上班。


def test_a_notice_from_monday_29_september_to_friday_10_october_2025_has_only_four_working_days():
    calendar = WorkCalendar()
    assert _working_days(calendar, d("2025-09-29"), d("2025-10-10")) == [
        d("2025-09-29"),
        d("2025-09-30"),
        d("2025-10-09"),
        d("2025-10-10"),
    ]
    assert calendar.working_days_between(d("2025-09-29"), d("2025-10-10")) == 4
    # Ten weekdays on the wall calendar, too few working days for a 任前公示 (at least five).
    assert sum(1 for i in range(12) if (d("2025-09-29") + dt.timedelta(days=i)).weekday() < 5) == 10


def test_a_notice_from_friday_26_september_to_thursday_9_october_2025_has_exactly_five_working_days():
    calendar = WorkCalendar()
    assert _working_days(calendar, d("2025-09-26"), d("2025-10-09")) == [
        d("2025-09-26"),
        d("2025-09-28"),  # Sunday, 调休上班
        d("2025-09-29"),
        d("2025-09-30"),
        d("2025-10-09"),
    ]
    assert calendar.working_days_between(d("2025-09-26"), d("2025-10-09")) == 5


def test_an_adjusted_saturday_counts_and_a_holiday_weekday_does_not():
    calendar = WorkCalendar()
    assert d("2025-10-11").weekday() == 5 and calendar.is_working_day(d("2025-10-11"))
    assert d("2025-09-28").weekday() == 6 and calendar.is_working_day(d("2025-09-28"))
    assert d("2025-10-01").weekday() == 2 and not calendar.is_working_day(d("2025-10-01"))
    assert d("2025-10-06").weekday() == 0 and not calendar.is_working_day(d("2025-10-06"))  # 中秋节
    assert d("2025-10-08").weekday() == 2 and not calendar.is_working_day(d("2025-10-08"))
    assert not calendar.is_working_day(d("2025-09-27"))  # an ordinary Saturday
    assert calendar.working_days_between(d("2025-10-01"), d("2025-10-08")) == 0


def test_add_working_days_jumps_over_the_holiday():
    calendar = WorkCalendar()
    assert calendar.add_working_days(d("2025-09-30"), 1) == d("2025-10-09")
    assert calendar.add_working_days(d("2025-09-26"), 1) == d("2025-09-28")  # the Sunday worked
    # A notice starting on 29 September: its fifth working day is the adjusted Saturday 11 October.
    end = calendar.add_working_days(d("2025-09-29"), 4)
    assert end == d("2025-10-11")
    assert calendar.working_days_between(d("2025-09-29"), end) == 5
    assert calendar.add_working_days(d("2025-09-29"), 5) == d("2025-10-13")
    assert calendar.add_working_days(d("2025-09-29"), 0) == d("2025-09-29")


def test_an_override_wins_over_the_library():
    calendar = WorkCalendar({d("2025-10-09"): False, d("2025-10-04"): True})
    assert not calendar.is_working_day(d("2025-10-09"))
    assert calendar.is_working_day(d("2025-10-04"))
    assert calendar.working_days_between(d("2025-09-29"), d("2025-10-10")) == 4


# A year without data --------------------------------------------------------------------------------


def test_the_library_covers_2026_but_not_2027():
    assert library_covers(2004) and library_covers(2026)
    assert not library_covers(2027) and not library_covers(2003)


def test_a_year_without_data_counts_weekdays_and_honours_overrides():
    plain = WorkCalendar()
    assert plain.working_days_between(d("2027-09-27"), d("2027-10-08")) == 10
    assert plain.is_working_day(d("2027-10-01"))  # a Friday, 国庆节 not yet known
    assert not plain.is_working_day(d("2027-10-09"))
    assert plain.add_working_days(d("2027-09-30"), 1) == d("2027-10-01")

    published = WorkCalendar({d("2027-10-01"): False, d("2027-10-09"): True})
    assert not published.is_working_day(d("2027-10-01"))
    assert published.is_working_day(d("2027-10-09"))  # Saturday 调休上班
    assert published.working_days_between(d("2027-09-27"), d("2027-10-08")) == 9
    assert published.add_working_days(d("2027-09-30"), 1) == d("2027-10-04")


def test_uncovered_years_lists_2027_until_an_override_for_2027_exists():
    days = [d("2026-12-30"), d("2027-01-04"), d("2027-10-01")]
    assert WorkCalendar().uncovered_years(days) == [2027]
    assert WorkCalendar({d("2026-10-01"): False}).uncovered_years(days) == [2027]
    assert WorkCalendar({d("2027-01-01"): False}).uncovered_years(days) == []


def test_counting_across_uncovered_years_never_raises():
    calendar = WorkCalendar({d("2027-10-01"): False})
    assert calendar.working_days_between(d("2026-12-01"), d("2028-01-31")) > 0
    assert calendar.add_working_days(d("2026-12-31"), 400) > d("2028-01-01")
    assert calendar.uncovered_years([d("2003-06-02"), d("2028-06-01")]) == [2003, 2028]


# Selectors ------------------------------------------------------------------------------------------


def test_work_calendar_loads_every_override_in_one_query(world: World, django_assert_num_queries):
    workday_override_set(actor=world.sam, day=d("2027-10-01"), is_working_day=False, note="2027 国庆节")
    workday_override_set(actor=world.sam, day=d("2027-10-09"), is_working_day=True, note="2027 国庆节调休")
    with django_assert_num_queries(1):
        calendar = work_calendar()
    assert calendar.overrides == {d("2027-10-01"): False, d("2027-10-09"): True}
    assert calendar.working_days_between(d("2027-09-27"), d("2027-10-09")) == 10


def test_coverage_warns_about_next_year_until_an_override_exists(world: World):
    coverage = calendar_coverage(d("2026-11-26"))
    assert [(y.year, y.library, y.overrides) for y in coverage.years] == [(2026, True, 0), (2027, False, 0)]
    assert coverage.uncovered_years == [2027]
    assert coverage.warnings == [WARNING_2027]

    workday_override_set(actor=world.sam, day=d("2027-01-01"), is_working_day=False, note="2027 元旦")
    coverage = calendar_coverage(d("2026-11-26"))
    assert coverage.warnings == [] and coverage.uncovered_years == []
    assert coverage.years[1].overrides == 1 and coverage.years[1].manual
    assert coverage.notes == ["2027 年的节假日安排按管理员录入的 1 条调整计算；未录入的日期按周一至周五计算。"]


def test_coverage_of_a_covered_year_says_nothing(db):
    coverage = calendar_coverage(d("2025-03-01"))
    assert coverage.warnings == [] and coverage.notes == []


# The page -------------------------------------------------------------------------------------------


@pytest.mark.urls("tests.urls_calendar")
def test_the_page_warns_that_next_year_is_not_covered(world: World):
    with time_machine.travel(NOV_2026, tick=False):
        response = _client(world.oscar).get(reverse("work_calendar"))
    assert response.status_code == 200
    body = response.content.decode()
    assert WARNING_2027 in body
    assert "2026 年 11 月" in body
    assert 'data-day="2026-11-26"' in body


@pytest.mark.urls("tests.urls_calendar")
def test_oscar_can_view_the_calendar_but_gets_no_form(world: World):
    response = _client(world.oscar).get(reverse("work_calendar"), {"year": 2025, "month": 10})
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("work_calendar_override") not in body
    assert reverse("work_calendar_override_remove") not in body


@pytest.mark.urls("tests.urls_calendar")
def test_an_anonymous_visitor_is_sent_to_log_in(db):
    response = Client().get(reverse("work_calendar"))
    assert response.status_code == 302


@pytest.mark.urls("tests.urls_calendar")
def test_the_month_shows_holidays_adjusted_working_days_and_rest_days(world: World):
    body = _client(world.alice).get(reverse("work_calendar"), {"year": 2025, "month": 10}).content.decode()
    assert "2025 年 10 月" in body
    national = _cell(body, "2025-10-01")
    assert 'data-kind="holiday"' in national and "国庆节" in national and 'data-working="0"' in national
    assert "中秋" in _cell(body, "2025-10-06")
    adjusted = _cell(body, "2025-10-11")
    assert 'data-kind="adjusted"' in adjusted and "调休上班" in adjusted and 'data-working="1"' in adjusted
    assert 'data-kind="rest"' in _cell(body, "2025-10-12")
    assert 'data-kind="work"' in _cell(body, "2025-10-09")
    assert "本月工作日 18 天" in body  # 23 weekdays − 6 holiday weekdays + Saturday 11 October
    assert WorkCalendar().working_days_between(d("2025-10-01"), d("2025-10-31")) == 18


@pytest.mark.urls("tests.urls_calendar")
def test_a_bad_month_in_the_address_falls_back_to_the_current_month(world: World):
    with time_machine.travel(NOV_2026, tick=False):
        response = _client(world.oscar).get(reverse("work_calendar"), {"year": "abc", "month": "13"})
    assert response.status_code == 200
    assert "2026 年 11 月" in response.content.decode()


@pytest.mark.urls("tests.urls_calendar")
def test_a_system_administrator_adds_an_override_with_a_ledger_event(world: World):
    client = _client(world.sam)
    with time_machine.travel(NOV_2026, tick=False):
        page = client.get(reverse("work_calendar")).content.decode()
        assert reverse("work_calendar_override") in page
        response = client.post(
            reverse("work_calendar_override"),
            {"set-day": "2027-10-01", "set-is_working_day": "0", "set-note": "国办发明电〔2026〕某号 国庆节"},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("work_calendar") + "?year=2027&month=10"
    override = WorkdayOverride.objects.get(day=d("2027-10-01"))
    assert override.is_working_day is False and override.created_by == world.sam
    event = Event.objects.get(action="calendar.override")
    assert event.subject_id == str(override.pk) and event.actor == world.sam
    assert json.loads(event.payload) == {
        "day": "2027-10-01",
        "working": False,
        "note": "国办发明电〔2026〕某号 国庆节",
        "new": True,
    }
    body = client.get(response["Location"]).content.decode()
    cell = _cell(body, "2027-10-01")
    assert "调整为休息" in cell and "国庆节" in cell and 'data-working="0"' in cell and "cal-overridden" in cell
    assert 'data-override="2027-10-01"' in body
    assert "推定" in _cell(body, "2027-10-04")


@pytest.mark.urls("tests.urls_calendar")
def test_alice_cannot_change_the_calendar(world: World):
    client = _client(world.alice)
    response = client.post(
        reverse("work_calendar_override"),
        {"set-day": "2027-10-01", "set-is_working_day": "0", "set-note": "国庆节"},
    )
    assert response.status_code == 403
    workday_override_set(actor=world.sam, day=d("2027-10-01"), is_working_day=False, note="国庆节")
    response = client.post(reverse("work_calendar_override_remove"), {"remove-day": "2027-10-01", "remove-note": "错"})
    assert response.status_code == 403
    assert WorkdayOverride.objects.filter(day=d("2027-10-01")).exists()
    assert not Event.objects.filter(action="calendar.override_remove").exists()
    assert _client(world.oscar).post(reverse("work_calendar_override"), {}).status_code == 403


@pytest.mark.urls("tests.urls_calendar")
def test_a_refused_override_is_shown_on_the_form_with_the_text_kept(world: World):
    client = _client(world.sam)
    response = client.post(
        reverse("work_calendar_override") + "?year=2027&month=10",
        {"set-day": "2027-10-01", "set-is_working_day": "", "set-note": "国庆节放假"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请选择当天上班还是休息。" in body and 'value="国庆节放假"' in body and 'value="2027-10-01"' in body
    assert "2027 年 10 月" in body

    response = client.post(
        reverse("work_calendar_override"),
        {"set-day": "1927-10-01", "set-is_working_day": "0", "set-note": "打错年份"},
    )
    assert response.status_code == 400
    assert "2000—2100" in response.content.decode() and 'value="打错年份"' in response.content.decode()

    response = client.post(
        reverse("work_calendar_override"), {"set-day": "2027-10-01", "set-is_working_day": "1", "set-note": "   "}
    )
    assert response.status_code == 400
    assert not WorkdayOverride.objects.exists() and not Event.objects.filter(action="calendar.override").exists()


@pytest.mark.urls("tests.urls_calendar")
def test_an_override_is_removed_with_its_own_ledger_event(world: World):
    override = workday_override_set(actor=world.sam, day=d("2027-10-01"), is_working_day=False, note="国庆节")
    client = _client(world.sam)

    refused = client.post(
        reverse("work_calendar_override_remove") + "?year=2027&month=10",
        {"remove-day": "2027-10-01", "remove-note": ""},
    )
    assert refused.status_code == 400
    assert "请填写撤销原因" in refused.content.decode()
    assert WorkdayOverride.objects.filter(day=d("2027-10-01")).exists()

    response = client.post(
        reverse("work_calendar_override_remove"),
        {"remove-day": "2027-10-01", "remove-note": "录入错误，改为 10 月 7 日"},
    )
    assert response.status_code == 302
    assert not WorkdayOverride.objects.filter(day=d("2027-10-01")).exists()
    event = Event.objects.get(action="calendar.override_remove")
    assert event.subject_type == "workdayoverride" and event.subject_id == str(override.pk)
    assert json.loads(event.payload) == {
        "day": "2027-10-01",
        "note": "录入错误，改为 10 月 7 日",
        "was_working": False,
        "was_note": "国庆节",
    }
    again = client.post(reverse("work_calendar_override_remove"), {"remove-day": "2027-10-01", "remove-note": "再撤"})
    assert again.status_code == 400
    assert "没有工作日调整" in again.content.decode()


def test_only_a_system_administrator_may_remove_an_override(world: World):
    from jishi.core.exceptions import PermissionDenied

    workday_override_set(actor=world.sam, day=d("2027-10-01"), is_working_day=False, note="国庆节")
    with pytest.raises(PermissionDenied):
        workday_override_remove(actor=world.alice, day=d("2027-10-01"), note="不对")
    assert WorkdayOverride.objects.count() == 1


@pytest.mark.urls("tests.urls_calendar")
def test_the_page_takes_a_fixed_number_of_queries(world: World, django_assert_max_num_queries):
    for day in ("2027-10-01", "2027-10-04", "2027-10-05", "2027-10-09"):
        workday_override_set(actor=world.sam, day=d(day), is_working_day=day == "2027-10-09", note="国庆节")
    client = _client(world.sam)
    # 6 for the page itself, 2 for the navigation (supervision link, unread count) on every page.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("work_calendar"), {"year": 2027, "month": 10})
    assert response.content.decode().count('data-override="') == 4


# Reminding system administrators --------------------------------------------------------------------


def test_calendar_warn_admins_notifies_sam_once(world: World):
    today = d("2026-11-26")
    sent = calendar_warn_admins(today=today)
    assert [n.user for n in sent] == [world.sam]
    assert sent[0].title == "2027 年法定节假日安排尚未收录"
    assert sent[0].body == WARNING_2027
    assert sent[0].url == "/supervision/calendar/?year=2027&month=1"

    assert calendar_warn_admins(today=today) == []
    assert Notification.objects.filter(user=world.sam).count() == 1
    assert not Notification.objects.exclude(user=world.sam).exists()

    # Read but still not entered: the next scan reminds again.
    notification_read(user=world.sam, notification=sent[0])
    assert [n.user for n in calendar_warn_admins(today=today)] == [world.sam]


def test_calendar_warn_admins_stays_quiet_once_next_year_has_an_override(world: World):
    workday_override_set(actor=world.sam, day=d("2027-01-01"), is_working_day=False, note="2027 元旦")
    assert calendar_warn_admins(today=d("2026-11-26")) == []
    assert calendar_warn_admins(today=d("2025-11-26")) == []  # 2026 is in the library
    assert not Notification.objects.exists()


def test_calendar_warn_admins_skips_inactive_administrators(world: World):
    world.sam.is_active = False
    world.sam.save(update_fields=["is_active"])
    assert calendar_warn_admins(today=d("2026-11-26")) == []
