"""The rule catalogue (procedure-reference §5) at its boundaries — pure facts in, findings out."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from jishi.supervision.calendar import WorkCalendar
from jishi.supervision.rules import (
    REGISTRY,
    CadreFacts,
    FamilyFacts,
    Finding,
    NomineeFacts,
    PositionFacts,
    RuleContext,
    StepFacts,
    TallyData,
    TallyLine,
)

TODAY = dt.date(2026, 11, 27)


def cadre(**changes) -> CadreFacts:
    base = CadreFacts(
        name="张伟",
        birth=dt.date(1982, 5, 1),
        work_start=dt.date(2005, 7, 1),
        grassroots_months=48,
        current_rank="county_deputy",
        current_rank_since=dt.date(2021, 3, 1),
        current_post_since=dt.date(2021, 3, 1),
        education="大学本科",
        inservice_education="",
        training_hours_5y=600,
        resume_lines=5,
        birthplace="四川内江",
        native_place="四川内江",
        family=(FamilyFacts("妻子", "李娜", "内江市第一人民医院医师"),),
        appraisals="2023年称职\n2024年优秀\n2025年优秀",
    )
    return replace(base, **changes)


def position(**changes) -> PositionFacts:
    base = PositionFacts(
        title="局长", unit_name="内江市财政局", rank_level="county_chief", quota=1, filled=0, region="内江市"
    )
    return replace(base, **changes)


def nominee(number="N1", steps=None, **changes) -> NomineeFacts:
    c = changes.pop("cadre", cadre())
    p = changes.pop("position", position())
    return NomineeFacts(number=number, cadre=c, position=p, steps=steps or {}, **changes)


def done(**data) -> StepFacts:
    return StepFacts(status="completed", data=data, started_on=TODAY, completed_on=TODAY, confirmed=True)


def run(code: str, params: dict | None = None, **context) -> list[Finding]:
    context.setdefault("today", TODAY)
    return REGISTRY[code].fn(params or {}, RuleContext(**context))


def severities(findings: list[Finding]) -> list[str]:
    return [f.severity for f in findings]


# ── 职数 W01–W02 ─────────────────────────────────────────────────────────────────────────────

QUOTA = {"quota": 5, "currently_filled": 5, "to_remove": 1, "to_appoint": 1}


def test_filling_exactly_to_the_quota_is_fine():
    assert run("W01", {"quota_step": "D04"}, step_id="D04", fields=QUOTA) == []


def test_one_over_the_quota_needs_a_prior_report():
    [finding] = run("W01", {"quota_step": "D04", "severity": "warn"}, step_id="D04", fields={**QUOTA, "to_appoint": 2})
    assert finding.severity == "warn" and "超过核定职数 5 人" in finding.message


def test_starting_over_quota_is_blocked_unless_the_report_was_approved():
    steps = {"D04": done(**{**QUOTA, "to_appoint": 2})}
    [finding] = run("W01", {"quota_step": "D04"}, step_id="D09", batch_steps=steps)
    assert finding.severity == "block"
    steps["D05"] = done(matter="超职数配备", reply_opinion="同意")
    assert severities(run("W01", {"quota_step": "D04"}, step_id="D09", batch_steps=steps)) == ["info"]


def test_a_full_post_without_anyone_to_remove_has_no_vacancy():
    full = nominee(position=position(quota=1, filled=1))
    assert severities(run("W02", fields={"to_remove": 0}, nominees=(full,))) == ["block"]
    assert run("W02", fields={"to_remove": 1}, nominees=(full,)) == []
    assert run("W02", fields={"to_remove": 0}, nominees=(nominee(),)) == []


# ── 事前报告、破格 W03–W05 ─────────────────────────────────────────────────────────────────────


def test_an_unapproved_prior_report_blocks_the_decision_meeting():
    assert severities(run("W03", {}, step_id="J02", batch_steps={"D05": done(reply_opinion="不同意")})) == ["block"]
    assert run("W03", {}, step_id="J02", batch_steps={"D05": done(reply_opinion="同意")}) == []
    waived = StepFacts(status="waived")
    assert run("W03", {}, step_id="J02", batch_steps={"D05": waived}) == []


def test_a_prior_report_without_a_reply_after_ten_working_days_is_warned_about():
    pending = StepFacts(status="in_progress", data={"reported_on": "2026-11-02"}, started_on=dt.date(2026, 11, 2))
    # Ten working days after Monday 2026-11-02 is Monday 2026-11-16.
    assert (
        run("W03", {"reply_days": 10}, step_id="D05", batch_steps={"D05": pending}, today=dt.date(2026, 11, 16)) == []
    )
    [finding] = run("W03", {"reply_days": 10}, step_id="D05", batch_steps={"D05": pending}, today=dt.date(2026, 11, 17))
    assert finding.severity == "warn" and finding.due_on == dt.date(2026, 11, 16)


def test_a_deputy_two_years_in_rank_may_become_chief_and_one_day_less_may_not():
    ready = nominee(cadre=cadre(current_rank_since=dt.date(2024, 11, 27)))
    assert run("W07", nominee=ready) == []
    early = nominee(cadre=cadre(current_rank_since=dt.date(2024, 11, 28)))
    [finding] = run("W07", nominee=early)
    assert finding.severity == "block" and "不满 2 年" in finding.message


def test_a_lower_chief_needs_three_years_before_becoming_an_upper_deputy():
    person = nominee(
        cadre=cadre(current_rank="township_chief", current_rank_since=dt.date(2024, 1, 1)),
        position=position(title="副局长", rank_level="county_deputy"),
    )
    [finding] = run("W07", nominee=person)
    assert "不满 3 年" in finding.message


def test_five_years_of_work_and_two_at_the_grassroots_are_needed_for_county_posts():
    assert run("W06", nominee=nominee()) == []
    young = nominee(cadre=cadre(work_start=dt.date(2021, 12, 1), grassroots_months=23))
    [finding] = run("W06", nominee=young)
    assert "不满五年" in finding.message and "不满两年" in finding.message


def test_an_approved_exceptional_promotion_turns_the_gap_into_a_note():
    young = nominee(cadre=cadre(grassroots_months=0))
    approved = {"D05": done(matter="破格提拔", reply_opinion="同意")}
    assert severities(run("W06", nominee=young, batch_steps=approved)) == ["info"]


def test_inspection_cannot_start_for_an_exceptional_case_without_approval():
    young = nominee(cadre=cadre(grassroots_months=0))
    assert severities(run("W04", nominees=(young,))) == ["block"]
    assert run("W04", nominees=(young,), batch_steps={"D05": done(matter="破格提拔", reply_opinion="同意")}) == []


def test_nobody_is_promoted_exceptionally_within_a_year_or_across_two_levels():
    fresh = nominee(cadre=cadre(current_rank_since=dt.date(2026, 1, 1)))
    assert "不满一年" in run("W05", nominee=fresh)[0].message
    leap = nominee(cadre=cadre(current_rank="township_chief"), position=position(rank_level="bureau_deputy"))
    assert any("越两级" in f.message for f in run("W05", nominee=leap))


# ── 资格 W08–W11 ─────────────────────────────────────────────────────────────────────────────


def test_education_below_the_level_required_is_warned_about():
    assert run("W09", nominee=nominee(cadre=cadre(education="大学专科"))) == []
    [finding] = run("W09", nominee=nominee(cadre=cadre(education="中专")))
    assert finding.severity == "warn"
    bureau = position(rank_level="bureau_deputy")
    assert run("W09", nominee=nominee(cadre=cadre(education="大学专科"), position=bureau))


def test_training_hours_below_the_threshold_are_a_follow_up_warning():
    assert run("W10", {"hours": 550}, nominee=nominee(cadre=cadre(training_hours_5y=550))) == []
    assert severities(run("W10", {"hours": 550}, nominee=nominee(cadre=cadre(training_hours_5y=549)))) == ["warn"]


def test_a_negative_discipline_opinion_or_a_failed_file_audit_bars_inspection():
    barred = nominee(steps={"D06": done(opinion="存在影响使用的问题")})
    assert severities(run("W11", nominees=(barred,))) == ["block"]
    weak = nominee(cadre=cadre(appraisals="2024年优秀\n2025年基本称职"))
    assert "基本称职" in run("W11", nominees=(weak,))[0].message
    assert run("W11", nominees=(nominee(),)) == []


# ── 推荐 W13–W17 ─────────────────────────────────────────────────────────────────────────────


def test_recommendation_results_expire_after_a_year():
    steps = {"T04": done(held_on="2025-11-27")}
    assert run("W14", {"months": 12}, batch_steps=steps) == []
    assert severities(run("W14", {"months": 12}, batch_steps=steps, today=dt.date(2026, 11, 28))) == ["block"]


def test_votes_are_shown_as_reference_only():
    votes = TallyData(9, 9, 9, (TallyLine("张伟", 7, 2, 0), TallyLine("刘洋", 8, 1, 0)))
    [finding] = run("W16", tally=votes)
    assert finding.severity == "info" and "刘洋" in finding.message


# ── 考察 W18–W22 ─────────────────────────────────────────────────────────────────────────────


def test_a_relative_on_the_inspection_team_must_step_aside():
    findings = run(
        "W18", {"min_members": 2}, fields={"team_size": 3, "team_members": "王强、李娜、赵敏"}, nominees=(nominee(),)
    )
    assert [f.key for f in findings] == ["relative:N1:李娜"]


FOUR_DONE = {
    "K07": done(result="通过"),
    "K08": done(result="一致"),
    "K09": done(conclusion="未发现影响使用的问题"),
    "K10": done(conclusion="未收到信访举报"),
}


def test_all_four_checks_clear_lets_the_person_go_to_the_meeting():
    assert run("W19", nominee=nominee(steps=FOUR_DONE)) == []


@pytest.mark.parametrize("missing", ["K07", "K08", "K09", "K10"])
def test_any_of_the_four_checks_missing_blocks(missing):
    steps = {k: v for k, v in FOUR_DONE.items() if k != missing}
    [finding] = run("W19", nominee=nominee(steps=steps))
    assert finding.severity == "block" and "未完成" in finding.message


def test_an_unsigned_integrity_opinion_or_a_missing_audit_report_blocks():
    assert severities(run("W20", fields={"integrity_opinion_signed": False})) == ["block"]
    assert run("W20", fields={"integrity_opinion_signed": "是"}) == []
    record = StepFacts(status="in_progress", materials=0)
    assert severities(run("W21", fields={"audit_required": "是"}, record=record)) == ["block"]
    assert run("W21", fields={"audit_required": "是"}, record=replace(record, materials=1)) == []


def test_an_unresolved_report_blocks_the_decision():
    person = nominee(steps={"K10": done(conclusion="尚未查清")})
    assert severities(run("W22", nominee=person)) == ["block"]


# ── 协管方 W23, 表决 W26 ─────────────────────────────────────────────────────────────────────


def test_no_reply_within_a_month_counts_as_consent_and_not_a_day_earlier():
    fields = {"sent_on": "2026-10-27"}
    assert run("W23", {"months": 1}, fields=fields, today=dt.date(2026, 11, 26)) == []
    [finding] = run("W23", {"months": 1}, fields=fields, today=dt.date(2026, 11, 27))
    assert finding.severity == "info" and "视为同意" in finding.message
    early = {**fields, "reply": "逾期未答复视为同意", "replied_on": "2026-11-20"}
    assert severities(run("W23", {"months": 1}, fields=early)) == ["block"]


def test_every_person_must_be_voted_on_one_by_one():
    votes = TallyData(9, 9, 9, (TallyLine("张伟", 7, 2, 0),))
    other = nominee("N2", cadre=cadre(name="刘洋"))
    assert [f.nomination for f in run("W26", tally=votes, nominees=(nominee(), other))] == ["N2"]


# ── 公示 W29–W30, 试用期 W31, 谈话 W32 ─────────────────────────────────────────────────────────


def test_an_exceptional_promotion_must_state_its_reasons_in_the_notice():
    approved = {"D05": done(matter="破格提拔", reply_opinion="同意")}
    fields = {"start_date": "2026-11-23", "end_date": "2026-11-27"}
    assert [f.key for f in run("W29", {}, fields=fields, batch_steps=approved)] == ["exception"]
    assert (
        run("W29", {}, fields={**fields, "exception_reason": "业绩突出，经省委组织部同意"}, batch_steps=approved) == []
    )


def test_an_open_report_from_the_notice_blocks_the_appointment():
    assert severities(run("W30", nominees=(nominee(open_feedback=1),))) == ["block"]
    assert run("W30", nominees=(nominee(),)) == []


def test_probation_reminds_a_month_before_it_ends_and_warns_once_it_is_over():
    steps = {"R03": done(issued_on="2025-12-27")}
    person = nominee()
    quiet = run(
        "W31",
        {"months": 12, "remind_days": 30},
        step_id="R06",
        batch_steps=steps,
        nominees=(person,),
        today=dt.date(2026, 11, 26),
    )
    assert quiet == []
    [reminder] = run(
        "W31",
        {"months": 12, "remind_days": 30},
        step_id="R06",
        batch_steps=steps,
        nominees=(person,),
        today=dt.date(2026, 11, 27),
    )
    assert reminder.severity == "info" and reminder.due_on == dt.date(2026, 12, 27)
    [overdue] = run(
        "W31",
        {"months": 12, "remind_days": 30},
        step_id="R06",
        batch_steps=steps,
        nominees=(person,),
        today=dt.date(2026, 12, 28),
    )
    assert overdue.severity == "warn" and "已于 2026-12-27 届满" in overdue.message
    finished = nominee(steps={"R06": done(conclusion="胜任")})
    assert (
        run("W31", {"months": 12}, step_id="R06", batch_steps=steps, nominees=(finished,), today=dt.date(2027, 1, 1))
        == []
    )


def test_a_missing_appointment_talk_is_warned_about_after_thirty_days():
    notice = {"R03": StepFacts(status="completed", completed_on=dt.date(2026, 10, 28))}
    assert run("W32", {"days": 30}, step_id="R04", batch_steps=notice, nominees=(nominee(),)) == []
    assert severities(
        run("W32", {"days": 30}, step_id="R04", batch_steps=notice, nominees=(nominee(),), today=dt.date(2026, 11, 28))
    ) == ["warn"]


# ── 回避、交流 W33–W36 ─────────────────────────────────────────────────────────────────────────


def test_a_spouse_in_the_target_unit_requires_avoidance():
    person = nominee(cadre=cadre(family=(FamilyFacts("妻子", "李娜", "内江市财政局预算科科员"),)))
    assert severities(run("W33", nominee=person)) == ["block"]
    assert run("W33", nominee=nominee()) == []


def test_a_relative_in_business_is_flagged_for_checking():
    person = nominee(cadre=cadre(family=(FamilyFacts("兄", "张强", "内江某建筑有限公司总经理"),)))
    assert severities(run("W34", nominee=person)) == ["info"]


def test_a_county_chief_post_in_the_home_county_is_avoided():
    county = position(title="县长", unit_name="威远县人民政府", region="威远县")
    person = nominee(cadre=cadre(birthplace="四川威远"), position=county)
    assert severities(run("W35", nominee=person)) == ["block"]
    deputy = replace(county, title="副县长")
    assert run("W35", nominee=nominee(cadre=cadre(birthplace="四川威远"), position=deputy)) == []
    city = position(title="局长", unit_name="内江市公安局", region="内江市")
    assert severities(run("W35", nominee=nominee(position=city))) == ["warn"]


def test_ten_years_in_one_post_calls_for_rotation():
    person = nominee(cadre=cadre(current_post_since=dt.date(2016, 11, 27)))
    assert [f.key for f in run("W36", {"post_months": 120}, nominee=person)] == ["N1:post"]
    assert (
        run("W36", {"post_months": 120}, nominee=nominee(cadre=cadre(current_post_since=dt.date(2016, 11, 28)))) == []
    )


# ── 纪实时效、签字 W43–W44 ─────────────────────────────────────────────────────────────────────


def test_a_record_left_open_beyond_its_working_days_is_late():
    record = StepFacts(status="in_progress", started_on=dt.date(2026, 11, 13))
    assert run("W43", {"working_days": 10}, step_id="K01", record=record) == []
    [finding] = run("W43", {"working_days": 10}, step_id="K01", record=record, today=dt.date(2026, 11, 28))
    assert finding.due_on == dt.date(2026, 11, 27)


def test_a_record_written_long_after_the_event_is_noted():
    late = StepFacts(status="completed", data={"held_on": "2026-10-01"}, started_on=TODAY, completed_on=TODAY)
    assert severities(run("W43", {"working_days": 10}, step_id="D01", record=late)) == ["info"]
    prompt = replace(late, data={"held_on": "2026-11-20"})
    assert run("W43", {"working_days": 10}, step_id="D01", record=prompt) == []


def test_materials_left_unsigned_are_warned_about():
    record = StepFacts(status="in_progress", started_on=dt.date(2026, 11, 16), materials=2, confirmed=False)
    assert severities(run("W44", {"working_days": 5}, step_id="K01", record=record)) == ["warn"]
    assert run("W44", {"working_days": 5}, step_id="K01", record=replace(record, confirmed=True)) == []


def test_key_post_nominations_need_an_approving_review_before_recommendation():
    key = nominee(position=position(is_key_post=True))
    assert severities(run("KP01", nominees=(key,))) == ["block"]
    assert run("KP01", nominees=(replace(key, key_post_review="approved"),)) == []
    assert "审核不同意" in run("KP01", nominees=(replace(key, key_post_review="rejected"),))[0].message


def test_the_rules_take_the_calendar_they_are_given():
    record = StepFacts(status="in_progress", started_on=dt.date(2031, 3, 3), materials=1)
    closed = WorkCalendar({dt.date(2031, 3, d): False for d in range(4, 11)})
    assert (
        run("W44", {"working_days": 5}, step_id="K01", record=record, today=dt.date(2031, 3, 11), calendar=closed) == []
    )
