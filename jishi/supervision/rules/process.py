"""推荐时效, 凡提四必, 协管方, 表决明细, 公示期间反映, 试用期, 任职谈话, key posts.

W14, W19–W23, W26, W30–W32 and KP01.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .engine import BLOCK, INFO, WARN, Finding, RuleContext, add_months, as_date, hit, rule

TIAOLI = "《党政领导干部选拔任用工作条例》（2019）"


@rule("W14", title="民主推荐结果有效期", severity=BLOCK, basis="民主推荐问答第12条：推荐结果一般一年内有效")
def w14_recommendation_age(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    meeting = ctx.batch_steps.get(str(params.get("recommendation_step", "T04")))
    held = as_date(meeting.data.get("held_on")) if meeting else None
    if held is None:
        return []
    limit = add_months(held, int(params.get("months", 12)))
    if ctx.today > limit:
        return [hit("W14", params, f"民主推荐于 {held} 进行，已超过一年（{limit}），须重新推荐。")]
    return []


FOUR_CHECKS = (
    ("K07", "result", ("通过",), "干部人事档案审核"),
    ("K08", "result", ("一致", "不一致但不影响使用"), "个人有关事项报告查核"),
    ("K09", "conclusion", ("未发现影响使用的问题",), "纪检监察机关意见"),
    ("K10", "conclusion", ("未收到信访举报", "已查清，不影响使用"), "信访举报核查"),
)


@rule(
    "W19",
    title="凡提四必",
    severity=BLOCK,
    basis=f"{TIAOLI}第三十一条：档案必审、报告必核、纪检必听、线索具体的信访举报必查",
)
def w19_four_checks(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        missing = []
        for step_id, field, good, label in FOUR_CHECKS:
            record = ctx.step(step_id, n)
            if record is None or not record.completed:
                missing.append(f"{label}未完成")
            elif str(record.data.get(field, "")) not in good:
                missing.append(f"{label}结论为“{record.data.get(field, '')}”")
        if missing:
            findings.append(hit("W19", params, f"{n.name}：{'；'.join(missing)}，不得提交讨论决定。", nominee=n))
    return findings


@rule(
    "W20",
    title="廉洁自律结论性意见签字",
    severity=BLOCK,
    basis=f"{TIAOLI}第三十一条：党委（党组）书记、纪委书记（纪检监察组组长）签字",
)
def w20_integrity_opinion(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    value = ctx.fields.get(str(params.get("field", "integrity_opinion_signed")))
    if value in (True, "是", "true", "True", "1", 1):
        return []
    return [hit("W20", params, "廉洁自律结论性意见须由党委（党组）书记和纪委书记（纪检监察组组长）签字。")]


@rule("W21", title="经济责任审计", severity=BLOCK, basis=f"{TIAOLI}第三十一条：需要进行经济责任审计的须审计")
def w21_economic_audit(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    required = ctx.fields.get(str(params.get("field", "audit_required"))) in (True, "是", "true", "1", 1)
    if required and (ctx.record is None or ctx.record.materials == 0):
        return [hit("W21", params, "需要进行经济责任审计，但未登记审计结果材料。")]
    return []


@rule("W22", title="信访举报未查清", severity=BLOCK, basis=f"{TIAOLI}第三十一条：问题没有查清之前不得作出任用决定")
def w22_open_reports(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        check = ctx.step(str(params.get("report_step", "K10")), n)
        if check is not None and check.data.get("conclusion") == "尚未查清":
            findings.append(hit("W22", params, f"{n.name} 的信访举报尚未查清，不得作出任用决定。", nominee=n))
        elif check is not None and check.data.get("conclusion") == "已查清，影响使用":
            findings.append(hit("W22", params, f"{n.name} 的信访举报查实影响使用，不得任用。", nominee=n))
    return findings


@rule("W23", title="协管方一个月未答复", severity=INFO, basis="2014《条例》第三十四条：协管方一个月内未答复的视为同意")
def w23_co_manager(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    sent, replied = as_date(ctx.fields.get("sent_on")), as_date(ctx.fields.get("replied_on"))
    if sent is None:
        return []
    deemed = add_months(sent, int(params.get("months", 1)))
    if ctx.fields.get("reply") == "逾期未答复视为同意" and (replied or ctx.today) < deemed:
        return [hit("W23", params, f"协管方意见于 {sent} 发出，{deemed} 前不能视为同意。", severity=BLOCK)]
    if replied is None and ctx.today >= deemed:
        return [hit("W23", params, f"协管方意见于 {sent} 发出，一个月内未答复，视为同意。", due_on=deemed)]
    return []


@rule("W26", title="逐个表决", severity=WARN, basis="讨论决定须逐个表决；与会人员及亲属回避")
def w26_each_person_voted(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    if ctx.tally is None:
        return []
    voted = {line.candidate for line in ctx.tally.lines}
    return [
        hit("W26", params, f"表决记录中没有 {n.name} 的表决结果，须逐个表决。", nominee=n)
        for n in ctx.nominees
        if n.name not in voted
    ]


@rule(
    "W30",
    title="公示期间反映问题未核查",
    severity=BLOCK,
    basis=f"{TIAOLI}第四十二条：对反映的问题查核后，不影响任职的才办理任职手续",
)
def w30_feedback_open(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return [
        hit(
            "W30",
            params,
            f"公示期间反映 {n.name} 的问题（{n.open_feedback} 件）尚未核查，不得办理任职手续。",
            nominee=n,
        )
        for n in ctx.people()
        if n.open_feedback
    ]


@rule("W31", title="试用期届满考核", severity=WARN, basis="2014《条例》第四十二条：试用期一年，期满考核")
def w31_probation(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    notice = ctx.batch_steps.get(str(params.get("notice_step", "R03")))
    if notice is None or not notice.completed:
        return []
    findings = []
    for n in ctx.people():
        own = ctx.step(ctx.step_id, n)
        if own is not None and own.done:
            continue
        start = as_date(own.data.get("probation_start")) if own else None
        start = start or as_date(notice.data.get("issued_on")) or notice.completed_on
        if start is None:
            continue
        due = add_months(start, int(params.get("months", 12)))
        lead = dt.timedelta(days=int(params.get("remind_days", 30)))
        if ctx.today > due:
            findings.append(
                hit("W31", params, f"{n.name} 的试用期已于 {due} 届满，尚未完成期满考核。", nominee=n, due_on=due)
            )
        elif ctx.today >= due - lead:
            findings.append(
                hit(
                    "W31",
                    params,
                    f"{n.name} 的试用期将于 {due} 届满，请安排期满考核。",
                    nominee=n,
                    severity=INFO,
                    due_on=due,
                )
            )
    return findings


@rule("W32", title="任职谈话", severity=WARN, basis="2014《条例》第四十三条：实行任职谈话制度")
def w32_appointment_talk(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    notice = ctx.batch_steps.get(str(params.get("notice_step", "R03")))
    if notice is None or not notice.completed or notice.completed_on is None:
        return []
    due = notice.completed_on + dt.timedelta(days=int(params.get("days", 30)))
    findings = []
    for n in ctx.people():
        talk = ctx.step(ctx.step_id, n)
        if (talk is None or not talk.done) and ctx.today > due:
            findings.append(
                hit(
                    "W32",
                    params,
                    f"任免通知已于 {notice.completed_on} 印发，尚未对 {n.name} 进行任职谈话。",
                    nominee=n,
                    due_on=due,
                )
            )
    return findings


@rule(
    "KP01",
    title="重要岗位动议审核",
    severity=BLOCK,
    basis="在重要岗位防控，在关键环节防控：重要岗位人选动议须经干部监督机构审核",
)
def kp01_key_post_review(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        if not n.position.is_key_post or n.key_post_review == "approved":
            continue
        state = "审核不同意" if n.key_post_review == "rejected" else "尚未经干部监督机构审核"
        findings.append(
            hit(
                "KP01",
                params,
                f"{n.name} 拟任重要岗位 {n.position.unit_name}{n.position.title}，{state}，不得启动民主推荐。",
                nominee=n,
            )
        )
    return findings


__all__ = ["BLOCK", "WARN"]
