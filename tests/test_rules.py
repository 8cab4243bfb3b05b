"""Supervision rules bound to steps, and the working-day calendar — pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from jishi.supervision.calendar import is_working_day, working_days_between
from jishi.supervision.rules import (
    REGISTRY,
    Finding,
    RuleContext,
    TallyData,
    TallyLine,
    evaluate,
)


def tally(due: int, present: int, *approvals: int, valid: int | None = None) -> TallyData:
    valid = present if valid is None else valid
    lines = tuple(
        TallyLine(candidate=name, approve=a, oppose=max(valid - a, 0), abstain=0)
        for name, a in zip(["张伟", "刘洋", "杨帆"], approvals, strict=False)
    )
    return TallyData(due=due, present=present, valid_ballots=valid, lines=lines)


def run(code: str, params: dict, **context) -> list[Finding]:
    return REGISTRY[code](params, RuleContext(**context))


def test_the_registry_holds_the_six_rules_the_definitions_may_name():
    assert set(REGISTRY) == {
        "quorum",
        "decision_majority",
        "min_value",
        "min_working_days",
        "date_order",
        "more_candidates_than_positions",
    }


# ── quorum: 三分之二以上到会 ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("due", "present"), [(9, 6), (9, 9), (10, 7), (3, 2), (12, 8)])
def test_quorum_accepts_two_thirds_or_more_present(due, present):
    assert run("quorum", {"ratio": "2/3"}, tally=tally(due, present)) == []


@pytest.mark.parametrize(("due", "present", "needed"), [(9, 5, 6), (10, 6, 7), (3, 1, 2), (12, 7, 8)])
def test_quorum_blocks_fewer_than_two_thirds_present(due, present, needed):
    assert run("quorum", {"ratio": "2/3"}, tally=tally(due, present)) == [
        Finding(
            "quorum",
            "block",
            f"实到 {present} 人，少于应到 {due} 人的 2/3（至少 {needed} 人），本次会议无效。",
        )
    ]


def test_quorum_defaults_to_two_thirds_when_no_ratio_is_given():
    assert run("quorum", {}, tally=tally(9, 6)) == []
    assert [f.severity for f in run("quorum", {}, tally=tally(9, 5))] == ["block"]


def test_quorum_reads_the_step_fields_when_told_which_ones():
    params = {"due_field": "due_members", "present_field": "present_members", "ratio": "2/3"}
    assert run("quorum", params, fields={"due_members": 9, "present_members": 6}) == []
    assert run("quorum", params, fields={"due_members": "9", "present_members": "6"}) == []
    [finding] = run("quorum", params, fields={"due_members": 9, "present_members": 5})
    assert finding.message == "实到 5 人，少于应到 9 人的 2/3（至少 6 人），本次会议无效。"
    # The field-based variant ignores a tally even when one is present.
    [finding] = run("quorum", params, fields={"due_members": 9, "present_members": 5}, tally=tally(9, 9))
    assert finding.severity == "block"


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"fields": {"due_members": 9}},
        {"fields": {"due_members": 9, "present_members": "七"}},
    ],
)
def test_quorum_blocks_when_the_head_count_is_missing(context):
    params = {"due_field": "due_members", "present_field": "present_members"} if context else {}
    assert run("quorum", params, **context) == [
        Finding("quorum", "block", "尚未填写应到、实到人数，无法核对到会人数。")
    ]


# ── decision_majority: 应到会成员超过半数同意 ─────────────────────────────────────────────────


def test_a_decision_passes_with_more_than_half_of_the_members_due():
    assert run("decision_majority", {}, tally=tally(9, 7, 5)) == []
    assert run("decision_majority", {}, tally=tally(10, 10, 6)) == []


def test_a_decision_counts_against_members_due_not_members_present():
    # 4 of 7 present is a majority of those present, but not more than half of the 9 due.
    [finding] = run("decision_majority", {}, tally=tally(9, 7, 4))
    assert finding.code == "decision_majority"
    assert finding.severity == "block"
    assert finding.message.startswith("张伟 同意 4 票，未超过应到会成员 9 人的半数，不能形成任用决定")


def test_exactly_half_of_the_members_due_is_not_a_majority():
    [finding] = run("decision_majority", {}, tally=tally(10, 10, 5))
    assert "张伟 同意 5 票，未超过应到会成员 10 人的半数" in finding.message


def test_a_decision_names_each_candidate_who_fell_short():
    findings = run("decision_majority", {}, tally=tally(9, 9, 5, 3, 4))
    assert [f.message.split(" ")[0] for f in findings] == ["刘洋", "杨帆"]


def test_a_decision_without_a_tally_is_blocked():
    assert run("decision_majority", {}) == [Finding("decision_majority", "block", "尚未录入表决结果。")]


# ── min_value ────────────────────────────────────────────────────────────────────────────────


def test_min_value_accepts_the_minimum_and_above():
    params = {"field": "team_size", "min": 2}
    assert run("min_value", params, fields={"team_size": 2}) == []
    assert run("min_value", params, fields={"team_size": "3"}) == []


def test_min_value_blocks_below_the_minimum_or_when_empty():
    params = {"field": "team_size", "min": 2, "label": "考察组人数"}
    assert run("min_value", params, fields={"team_size": 1}) == [
        Finding("min_value", "block", "考察组人数应不少于 2，当前为 1。")
    ]
    assert run("min_value", {"field": "team_size", "min": 2}, fields={}) == [
        Finding("min_value", "block", "人数应不少于 2，当前为 未填写。")
    ]


# ── min_working_days and the calendar ────────────────────────────────────────────────────────

PUBLICITY = {"start": "start_date", "end": "end_date", "days": 5}


def test_a_publicity_period_over_the_national_day_holiday_is_too_short():
    fields = {"start_date": "2026-10-01", "end_date": "2026-10-09"}
    assert working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 9)) == 2
    assert run("min_working_days", PUBLICITY, fields=fields) == [
        Finding("min_working_days", "block", "2026-10-01 至 2026-10-09 只有 2 个工作日，少于规定的 5 个工作日。")
    ]


def test_an_ordinary_monday_to_friday_is_five_working_days():
    assert working_days_between(dt.date(2026, 11, 23), dt.date(2026, 11, 27)) == 5
    assert run("min_working_days", PUBLICITY, fields={"start_date": "2026-11-23", "end_date": "2026-11-27"}) == []
    # Monday to Thursday is one short.
    [finding] = run("min_working_days", PUBLICITY, fields={"start_date": "2026-11-23", "end_date": "2026-11-26"})
    assert "只有 4 个工作日" in finding.message


def test_a_makeup_saturday_counts_and_a_holiday_weekday_does_not():
    assert is_working_day(dt.date(2026, 10, 10)) is True  # 调休上班 (Saturday)
    assert is_working_day(dt.date(2026, 10, 5)) is False  # 国庆假期 (Monday)
    assert is_working_day(dt.date(2026, 11, 28)) is False  # ordinary Saturday


def test_a_year_the_holiday_calendar_does_not_cover_falls_back_to_monday_to_friday():
    # 2031-01-01 is a Wednesday; without published data it counts as a working day.
    assert working_days_between(dt.date(2031, 1, 1), dt.date(2031, 1, 7)) == 5
    assert is_working_day(dt.date(2031, 1, 4)) is False  # Saturday
    assert is_working_day(dt.date(2031, 1, 1)) is True
    assert run("min_working_days", PUBLICITY, fields={"start_date": "2031-03-03", "end_date": "2031-03-07"}) == []


def test_working_days_between_a_reversed_range_is_zero():
    assert working_days_between(dt.date(2026, 11, 27), dt.date(2026, 11, 23)) == 0
    assert working_days_between(dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == 1


def test_min_working_days_reads_datetime_values_by_their_date():
    fields = {"start_date": "2026-11-23T09:00", "end_date": "2026-11-27T17:30"}
    assert run("min_working_days", PUBLICITY, fields=fields) == []


@pytest.mark.parametrize(
    "fields", [{}, {"start_date": "2026-11-23"}, {"start_date": "2026-11-23", "end_date": "2026-02-30"}]
)
def test_min_working_days_blocks_without_both_dates(fields):
    assert run("min_working_days", PUBLICITY, fields=fields) == [
        Finding("min_working_days", "block", "请填写起止日期。")
    ]


# ── date_order ───────────────────────────────────────────────────────────────────────────────

ORDER = {"before": "requested_on", "after": "replied_on"}


def test_date_order_blocks_a_reply_dated_before_the_request():
    fields = {"requested_on": "2026-11-27", "replied_on": "2026-11-20"}
    assert run("date_order", ORDER, fields=fields) == [
        Finding("date_order", "block", "日期先后顺序不对：2026-11-20 早于 2026-11-27。")
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


# ── more_candidates_than_positions (差额) ─────────────────────────────────────────────────────


def test_as_many_candidates_as_positions_is_warned_about():
    assert run("more_candidates_than_positions", {"severity": "warn"}, candidates=2, positions=2) == [
        Finding("more_candidates_than_positions", "warn", "人选 2 名，不多于拟任职位 2 个，未实行差额。")
    ]


def test_more_candidates_than_positions_raises_nothing():
    assert run("more_candidates_than_positions", {"severity": "warn"}, candidates=3, positions=2) == []


def test_the_candidate_rule_severity_comes_from_its_params():
    [finding] = run("more_candidates_than_positions", {"severity": "block"}, candidates=1, positions=2)
    assert finding.severity == "block"
    [finding] = run("more_candidates_than_positions", {}, candidates=1, positions=2)
    assert finding.severity == "warn"


# ── evaluate ─────────────────────────────────────────────────────────────────────────────────


def test_evaluate_turns_an_unknown_rule_code_into_a_blocking_finding():
    assert evaluate([("no_such_rule", {})], RuleContext()) == [
        Finding("no_such_rule", "block", "流程定义引用了未知规则 no_such_rule，请联系系统管理员。")
    ]


def test_evaluate_runs_every_rule_in_order_and_keeps_going_after_an_unknown_one():
    ctx = RuleContext(tally=tally(9, 5, 4), candidates=1, positions=1)
    findings = evaluate(
        [("quorum", {"ratio": "2/3"}), ("no_such_rule", {}), ("decision_majority", {}), ("date_order", ORDER)],
        ctx,
    )
    assert [(f.code, f.severity) for f in findings] == [
        ("quorum", "block"),
        ("no_such_rule", "block"),
        ("decision_majority", "block"),
    ]


def test_evaluate_returns_nothing_when_every_rule_is_satisfied():
    ctx = RuleContext(tally=tally(9, 7, 5), candidates=3, positions=2)
    assert evaluate([("quorum", {}), ("decision_majority", {}), ("more_candidates_than_positions", {})], ctx) == []
