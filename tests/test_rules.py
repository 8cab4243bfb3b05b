"""Meeting counts, majorities, differential selection, team size, the notice period and date order — pure rules
at their boundaries, and the working-day calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from jishi.supervision.calendar import WorkCalendar, is_working_day, working_days_between
from jishi.supervision.rules import REGISTRY, Finding, RuleContext, TallyData, TallyLine, evaluate


def tally(due: int, present: int, *approvals: int, valid: int | None = None) -> TallyData:
    valid = present if valid is None else valid
    lines = tuple(
        TallyLine(candidate=name, approve=a, oppose=max(valid - a, 0), abstain=0)
        for name, a in zip(["张伟", "刘洋", "杨帆"], approvals, strict=False)
    )
    return TallyData(due=due, present=present, valid_ballots=valid, lines=lines)


def run(code: str, params: dict, **context) -> list[Finding]:
    return REGISTRY[code].fn(params, RuleContext(**context))


def brief(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.code, f.severity, f.message) for f in findings]


def test_every_rule_has_a_title_a_severity_and_its_legal_basis():
    assert {"W01", "W13", "W19", "W24", "W25", "W29", "W30", "W31", "W33", "W43", "W44", "date_order"} <= set(REGISTRY)
    for code, spec in REGISTRY.items():
        assert spec.title and spec.basis, code
        assert spec.severity in ("block", "warn", "info"), code


# ── W13 / W24: 三分之二以上到会 ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("code", ["W13", "W24"])
@pytest.mark.parametrize(("due", "present"), [(9, 6), (9, 9), (10, 7), (3, 2), (12, 8)])
def test_two_thirds_or_more_present_is_a_quorum(code, due, present):
    assert run(code, {"ratio": "2/3"}, tally=tally(due, present)) == []


@pytest.mark.parametrize(("due", "present", "needed"), [(9, 5, 6), (10, 6, 7), (3, 1, 2), (12, 7, 8)])
def test_fewer_than_two_thirds_present_blocks(due, present, needed):
    assert brief(run("W24", {"ratio": "2/3"}, tally=tally(due, present))) == [
        ("W24", "block", f"实到 {present} 人，少于应到 {due} 人的 2/3（至少 {needed} 人），本次会议无效。")
    ]


def test_exactly_two_thirds_present_is_enough():
    assert run("W24", {}, tally=tally(9, 6)) == []
    assert run("W24", {}, tally=tally(12, 8)) == []
    assert [f.severity for f in run("W24", {}, tally=tally(12, 7))] == ["block"]


def test_the_quorum_reads_the_step_fields_when_told_which_ones():
    params = {"due_field": "due_members", "present_field": "present_members", "ratio": "2/3"}
    assert run("W24", params, fields={"due_members": 9, "present_members": 6}) == []
    assert run("W24", params, fields={"due_members": "9", "present_members": "6"}) == []
    [finding] = run("W24", params, fields={"due_members": 9, "present_members": 5}, tally=tally(9, 9))
    assert finding.message == "实到 5 人，少于应到 9 人的 2/3（至少 6 人），本次会议无效。"
    assert "三分之二" in finding.basis


@pytest.mark.parametrize(
    "context", [{}, {"fields": {"due_members": 9}}, {"fields": {"due_members": 9, "present_members": "七"}}]
)
def test_the_quorum_blocks_when_the_head_count_is_missing(context):
    params = {"due_field": "due_members", "present_field": "present_members"} if context else {}
    assert brief(run("W24", params, **context)) == [("W24", "block", "尚未填写应到、实到人数，无法核对到会人数。")]


# ── W25: 应到会成员超过半数同意 ──────────────────────────────────────────────────────────────


def test_a_decision_passes_with_more_than_half_of_the_members_due():
    assert run("W25", {}, tally=tally(9, 7, 5)) == []
    assert run("W25", {}, tally=tally(10, 10, 6)) == []


def test_a_decision_counts_against_members_due_not_members_present():
    # 4 of 7 present is a majority of those present, but not more than half of the 9 due.
    [finding] = run("W25", {}, tally=tally(9, 7, 4))
    assert finding.severity == "block"
    assert finding.message.startswith("张伟 同意 4 票，未超过应到会成员 9 人的半数，不能形成任用决定")


def test_approvals_equal_to_half_of_the_members_due_do_not_pass():
    [finding] = run("W25", {}, tally=tally(10, 10, 5))
    assert "张伟 同意 5 票，未超过应到会成员 10 人的半数" in finding.message


def test_a_decision_names_each_candidate_who_fell_short():
    findings = run("W25", {}, tally=tally(9, 9, 5, 3, 4))
    assert [f.message.split(" ")[0] for f in findings] == ["刘洋", "杨帆"]
    assert [f.key for f in findings] == ["刘洋", "杨帆"]


def test_a_decision_without_a_tally_is_blocked():
    assert brief(run("W25", {})) == [("W25", "block", "尚未录入表决结果。")]


# ── W18: 考察组 ──────────────────────────────────────────────────────────────────────────────


def test_an_inspection_team_of_two_is_enough():
    params = {"field": "team_size", "min_members": 2}
    assert run("W18", params, fields={"team_size": 2}) == []
    assert run("W18", params, fields={"team_size": "3"}) == []


def test_an_inspection_team_of_one_or_unknown_size_blocks():
    params = {"field": "team_size", "min_members": 2}
    assert brief(run("W18", params, fields={"team_size": 1})) == [("W18", "block", "考察组应不少于 2 人，当前为 1。")]
    assert brief(run("W18", params, fields={})) == [("W18", "block", "考察组应不少于 2 人，当前为 未填写。")]


# ── W29: 公示期不少于五个工作日 ──────────────────────────────────────────────────────────────

NOTICE = {"start": "start_date", "end": "end_date", "days": 5}


def test_a_notice_over_the_national_day_holiday_is_too_short():
    fields = {"start_date": "2026-10-01", "end_date": "2026-10-09"}
    assert working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 9)) == 2
    assert brief(run("W29", NOTICE, fields=fields)) == [
        ("W29", "block", "公示期 2026-10-01 至 2026-10-09 只有 2 个工作日，少于规定的 5 个工作日。")
    ]


def test_a_notice_across_national_day_counts_the_makeup_saturday():
    # 2026: 10-01..10-07 off; Saturday 10-10 is a 调休 working day. 10-08 Thu, 10-09 Fri, 10-10 Sat,
    # 10-12 Mon, 10-13 Tue make five working days — five weekdays would have been 10-08..10-14.
    fields = {"start_date": "2026-10-01", "end_date": "2026-10-13"}
    assert run("W29", NOTICE, fields=fields) == []
    assert working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 12)) == 4


def test_an_ordinary_monday_to_friday_is_five_working_days():
    assert working_days_between(dt.date(2026, 11, 23), dt.date(2026, 11, 27)) == 5
    assert run("W29", NOTICE, fields={"start_date": "2026-11-23", "end_date": "2026-11-27"}) == []
    [finding] = run("W29", NOTICE, fields={"start_date": "2026-11-23", "end_date": "2026-11-26"})
    assert "只有 4 个工作日" in finding.message


def test_a_makeup_saturday_counts_and_a_holiday_weekday_does_not():
    assert is_working_day(dt.date(2026, 10, 10)) is True  # 调休上班 (Saturday)
    assert is_working_day(dt.date(2026, 10, 5)) is False  # 国庆假期 (Monday)
    assert is_working_day(dt.date(2026, 11, 28)) is False  # ordinary Saturday


def test_a_year_without_calendar_data_counts_weekdays_and_says_so():
    # 2031-03-03 is a Monday; without published holiday data it counts Monday–Friday, never crashes.
    assert working_days_between(dt.date(2031, 1, 1), dt.date(2031, 1, 7)) == 5
    findings = run("W29", NOTICE, fields={"start_date": "2031-03-03", "end_date": "2031-03-07"})
    assert [(f.severity, f.key) for f in findings] == [("warn", "calendar")]
    assert "2031 年的法定节假日安排尚未收录" in findings[0].message


def test_an_administrators_override_decides_a_year_without_data():
    calendar = WorkCalendar({dt.date(2031, 3, 5): False})
    findings = run("W29", NOTICE, fields={"start_date": "2031-03-03", "end_date": "2031-03-07"}, calendar=calendar)
    assert [f.severity for f in findings] == ["block"]  # 4 working days; the override also covers 2031
    assert "只有 4 个工作日" in findings[0].message


def test_working_days_between_a_reversed_range_is_zero():
    assert working_days_between(dt.date(2026, 11, 27), dt.date(2026, 11, 23)) == 0
    assert working_days_between(dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == 1


def test_the_notice_reads_datetime_values_by_their_date():
    fields = {"start_date": "2026-11-23T09:00", "end_date": "2026-11-27T17:30"}
    assert run("W29", NOTICE, fields=fields) == []


@pytest.mark.parametrize(
    "fields", [{}, {"start_date": "2026-11-23"}, {"start_date": "2026-11-23", "end_date": "2026-02-30"}]
)
def test_the_notice_blocks_without_both_dates(fields):
    assert brief(run("W29", NOTICE, fields=fields)) == [("W29", "block", "请填写公示起止日期。")]


# ── date_order ───────────────────────────────────────────────────────────────────────────────

ORDER = {"before": "requested_on", "after": "replied_on"}


def test_date_order_blocks_a_reply_dated_before_the_request():
    fields = {"requested_on": "2026-11-27", "replied_on": "2026-11-20"}
    assert brief(run("date_order", ORDER, fields=fields)) == [
        ("date_order", "block", "日期先后顺序不对：2026-11-20 早于 2026-11-27。")
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"requested_on": "2026-11-20", "replied_on": "2026-11-27"},
        {"requested_on": "2026-11-20", "replied_on": "2026-11-20"},
        {"requested_on": "2026-11-20"},
        {},
    ],
)
def test_date_order_accepts_the_right_order_the_same_day_or_a_date_not_yet_filled(fields):
    assert run("date_order", ORDER, fields=fields) == []


# ── W15 / W17 (差额) ─────────────────────────────────────────────────────────────────────────


def test_as_many_candidates_as_positions_is_warned_about():
    assert brief(run("W15", {}, candidates=2, positions=2)) == [
        ("W15", "warn", "会议推荐参考人选 2 名，不多于拟任职位 2 个，未实行差额。")
    ]


def test_more_candidates_than_positions_raises_nothing():
    assert run("W15", {}, candidates=3, positions=2) == []


def test_the_severity_can_be_raised_by_the_definition():
    [finding] = run("W15", {"severity": "block"}, candidates=1, positions=2)
    assert finding.severity == "block"


def test_a_term_election_must_inspect_more_candidates_than_posts():
    [finding] = run("W17", {}, candidates=2, positions=2, batch_kind="term")
    assert finding.severity == "block" and "换届考察必须差额" in finding.message
    [finding] = run("W17", {}, candidates=2, positions=2, batch_kind="routine")
    assert finding.severity == "warn"


# ── evaluate ─────────────────────────────────────────────────────────────────────────────────


def test_evaluate_turns_an_unknown_rule_code_into_a_blocking_finding():
    assert brief(evaluate([("no_such_rule", {})], RuleContext())) == [
        ("no_such_rule", "block", "流程定义引用了未知规则 no_such_rule，请联系系统管理员。")
    ]


def test_evaluate_runs_every_rule_in_order_and_keeps_going_after_an_unknown_one():
    ctx = RuleContext(tally=tally(9, 5, 4), candidates=1, positions=1)
    findings = evaluate([("W24", {"ratio": "2/3"}), ("no_such_rule", {}), ("W25", {}), ("date_order", ORDER)], ctx)
    assert [(f.code, f.severity) for f in findings] == [("W24", "block"), ("no_such_rule", "block"), ("W25", "block")]


def test_evaluate_returns_nothing_when_every_rule_is_satisfied():
    ctx = RuleContext(tally=tally(9, 7, 5), candidates=3, positions=2)
    assert evaluate([("W24", {}), ("W25", {}), ("W15", {})], ctx) == []
