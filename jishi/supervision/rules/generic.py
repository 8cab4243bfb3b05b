"""Meeting counts, differential selection, team size, the notice period and date order (W13, W15, W17, W18,
W24, W25, W29; ``date_order``)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .engine import BLOCK, INFO, WARN, Finding, RuleContext, as_date, as_int, hit, rule

TIAOLI = "《党政领导干部选拔任用工作条例》（2019）"


def _minimum(ratio: str, due: int) -> int:
    return math.ceil(Fraction(ratio) * due)


def _quorum(code: str, params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    ratio = str(params.get("ratio", "2/3"))
    if "due_field" in params:
        due, present = as_int(ctx.fields.get(params["due_field"])), as_int(ctx.fields.get(params["present_field"]))
    elif ctx.tally is not None:
        due, present = ctx.tally.due, ctx.tally.present
    else:
        due = present = None
    if due is None or present is None:
        return [hit(code, params, "尚未填写应到、实到人数，无法核对到会人数。", severity=BLOCK)]
    needed = _minimum(ratio, due)
    if present < needed:
        return [
            hit(code, params, f"实到 {present} 人，少于应到 {due} 人的 {ratio}（至少 {needed} 人），本次会议无效。")
        ]
    return []


@rule(
    "W13",
    title="民主推荐到会人数",
    severity=BLOCK,
    basis="民主推荐问答第19条：参加推荐人数应达应参加人数的三分之二以上",
)
def w13_recommendation_quorum(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return _quorum("W13", params, ctx)


@rule("W24", title="讨论决定到会人数", severity=BLOCK, basis=f"{TIAOLI}：讨论决定须有三分之二以上成员到会")
def w24_decision_quorum(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return _quorum("W24", params, ctx)


@rule(
    "W25",
    title="表决须超过应到会成员半数",
    severity=BLOCK,
    basis=f"{TIAOLI}；2014《条例》第三十八条：以应到会成员超过半数同意形成决定",
)
def w25_majority_of_members_due(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """The denominator is the members DUE to attend, not those present — the first trap."""
    if ctx.tally is None:
        return [hit("W25", params, "尚未录入表决结果。")]
    return [
        hit(
            "W25",
            params,
            f"{line.candidate} 同意 {line.approve} 票，未超过应到会成员 {ctx.tally.due} 人的半数，"
            "不能形成任用决定；请按规定将其退出本批次（注明缓议或未通过）后再完成本步骤。",
            key=line.candidate,
        )
        for line in ctx.tally.lines
        if line.approve * 2 <= ctx.tally.due
    ]


def _differential(code: str, params: dict[str, Any], ctx: RuleContext, what: str) -> list[Finding]:
    if ctx.candidates <= ctx.positions:
        return [hit(code, params, f"{what} {ctx.candidates} 名，不多于拟任职位 {ctx.positions} 个，未实行差额。")]
    return []


@rule("W15", title="会议推荐参考人选差额", severity=WARN, basis=f"{TIAOLI}第十八条、第二十条")
def w15_reference_candidates(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return _differential("W15", params, ctx, "会议推荐参考人选")


@rule("W17", title="考察对象差额", severity=WARN, basis=f"{TIAOLI}第二十五条；换届考察应当差额")
def w17_inspection_targets(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    severity = BLOCK if ctx.batch_kind == "term" and params.get("term_block", True) else None
    findings = _differential("W17", params, ctx, "考察对象")
    return [
        hit("W17", params, f.message + ("换届考察必须差额。" if severity else ""), severity=severity) for f in findings
    ]


@rule("W16", title="不以票取人", severity=INFO, basis=f"{TIAOLI}第二十三条：推荐票只作参考，不简单以票取人")
def w16_votes_are_reference_only(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    if ctx.tally is None or not ctx.tally.lines:
        return []
    top = max(ctx.tally.lines, key=lambda line: line.approve)
    return [hit("W16", params, f"推荐得票最多的是 {top.candidate}（{top.approve} 票）；推荐票仅作参考，须综合研判。")]


@rule("W18", title="考察组组成", severity=BLOCK, basis=f"{TIAOLI}第三十三条：考察组由两名以上成员组成；考察组成员回避")
def w18_inspection_team(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    minimum = int(params.get("min_members", 2))
    size = as_int(ctx.fields.get(str(params.get("field", "team_size"))))
    findings = []
    if size is None or size < minimum:
        shown = size if size is not None else "未填写"
        findings.append(hit("W18", params, f"考察组应不少于 {minimum} 人，当前为 {shown}。", key="size"))
    team = str(ctx.fields.get(str(params.get("members_field", "team_members"))) or "") + str(
        ctx.fields.get("team_leader") or ""
    )
    for nominee in ctx.nominees:
        for relative in nominee.cadre.family:
            if len(relative.name) >= 2 and relative.name in team:
                findings.append(
                    hit(
                        "W18",
                        params,
                        f"考察组成员 {relative.name} 是考察对象 {nominee.name} 的{relative.relation}，应当回避。",
                        nominee=nominee,
                        key=f"relative:{nominee.number}:{relative.name}",
                    )
                )
    return findings


@rule(
    "W29",
    title="任前公示",
    severity=BLOCK,
    basis=f"{TIAOLI}第四十二条：公示期不少于五个工作日；破格提拔的须说明破格情形和理由",
)
def w29_notice_period(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """Five *working* days in the Chinese calendar (holidays and 调休 included) — the second trap."""
    start = as_date(ctx.fields.get(str(params.get("start", "start_date"))))
    end = as_date(ctx.fields.get(str(params.get("end", "end_date"))))
    days = int(params.get("days", 5))
    if start is None or end is None:
        return [hit("W29", params, "请填写公示起止日期。", key="dates")]
    findings = []
    actual = ctx.calendar.working_days_between(start, end)
    if actual < days:
        findings.append(
            hit(
                "W29",
                params,
                f"公示期 {start} 至 {end} 只有 {actual} 个工作日，少于规定的 {days} 个工作日。",
                key="days",
            )
        )
    uncovered = ctx.calendar.uncovered_years([start, end])
    if uncovered:
        years = "、".join(str(y) for y in uncovered)
        findings.append(
            hit(
                "W29",
                params,
                f"{years} 年的法定节假日安排尚未收录，工作日暂按周一至周五及管理员录入的调整计算，请核对。",
                severity=WARN,
                key="calendar",
            )
        )
    exceptional = ctx.batch_steps.get(str(params.get("exception_step", "D05")))
    if (
        exceptional is not None
        and exceptional.completed
        and exceptional.data.get("matter") == "破格提拔"
        and not str(ctx.fields.get(str(params.get("reason_field", "exception_reason"))) or "").strip()
    ):
        findings.append(hit("W29", params, "本批有破格提拔，公示内容须写明破格情形和理由。", key="exception"))
    return findings


@rule("date_order", title="日期先后", severity=BLOCK, basis="纪实内容须真实、前后一致")
def date_order(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    before, after = as_date(ctx.fields.get(params["before"])), as_date(ctx.fields.get(params["after"]))
    if before and after and after < before:
        return [hit("date_order", params, f"日期先后顺序不对：{after} 早于 {before}。", key=str(params["after"]))]
    return []
