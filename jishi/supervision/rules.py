"""Rules bound to steps in the procedure definition — pure functions over plain data.

Each rule returns findings; a ``block`` finding refuses completion of the step, a ``warn`` finding
is shown to the clerk and (later) raised as an early warning. Legal basis in each docstring.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .calendar import working_days_between


@dataclass(frozen=True)
class TallyLine:
    candidate: str
    approve: int
    oppose: int
    abstain: int
    defer: int = 0


@dataclass(frozen=True)
class TallyData:
    due: int
    present: int
    valid_ballots: int
    lines: tuple[TallyLine, ...] = ()


@dataclass(frozen=True)
class RuleContext:
    fields: dict[str, Any] = field(default_factory=dict)
    tally: TallyData | None = None
    positions: int = 0
    candidates: int = 0


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "block" | "warn"
    message: str


RuleFn = Callable[[dict[str, Any], RuleContext], list[Finding]]
REGISTRY: dict[str, RuleFn] = {}


def rule(code: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        REGISTRY[code] = fn
        return fn

    return register


def _minimum(ratio: str, due: int) -> int:
    return math.ceil(Fraction(ratio) * due)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@rule("quorum")
def quorum(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """到会人数须达应到人数的三分之二以上（《条例》讨论决定；民主推荐问答第19条）。"""
    ratio = str(params.get("ratio", "2/3"))
    if "due_field" in params:
        due, present = _as_int(ctx.fields.get(params["due_field"])), _as_int(ctx.fields.get(params["present_field"]))
    elif ctx.tally is not None:
        due, present = ctx.tally.due, ctx.tally.present
    else:
        return [Finding("quorum", "block", "尚未填写应到、实到人数，无法核对到会人数。")]
    if due is None or present is None:
        return [Finding("quorum", "block", "尚未填写应到、实到人数，无法核对到会人数。")]
    needed = _minimum(ratio, due)
    if present < needed:
        return [
            Finding(
                "quorum", "block", f"实到 {present} 人，少于应到 {due} 人的 {ratio}（至少 {needed} 人），本次会议无效。"
            )
        ]
    return []


@rule("decision_majority")
def decision_majority(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """以应到会成员超过半数同意形成决定（2014《条例》第三十八条）；分母是应到，不是实到。"""
    if ctx.tally is None:
        return [Finding("decision_majority", "block", "尚未录入表决结果。")]
    findings = []
    for line in ctx.tally.lines:
        if line.approve * 2 <= ctx.tally.due:
            findings.append(
                Finding(
                    "decision_majority",
                    "block",
                    f"{line.candidate} 同意 {line.approve} 票，未超过应到会成员 {ctx.tally.due} 人的半数，"
                    "不能形成任用决定；请按规定将其退出本批次（注明缓议或未通过）后再完成本步骤。",
                )
            )
    return findings


@rule("min_value")
def min_value(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """如考察组由两名以上成员组成（《条例》第三十三条）。"""
    value = _as_int(ctx.fields.get(params["field"]))
    minimum = int(params["min"])
    if value is None or value < minimum:
        label = params.get("label", "人数")
        return [
            Finding(
                "min_value", "block", f"{label}应不少于 {minimum}，当前为 {value if value is not None else '未填写'}。"
            )
        ]
    return []


@rule("min_working_days")
def min_working_days(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """公示期不少于五个工作日（2019《条例》第四十二条）。"""
    start, end = _as_date(ctx.fields.get(params["start"])), _as_date(ctx.fields.get(params["end"]))
    days = int(params["days"])
    if start is None or end is None:
        return [Finding("min_working_days", "block", "请填写起止日期。")]
    actual = working_days_between(start, end)
    if actual < days:
        return [
            Finding(
                "min_working_days", "block", f"{start} 至 {end} 只有 {actual} 个工作日，少于规定的 {days} 个工作日。"
            )
        ]
    return []


@rule("date_order")
def date_order(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """前后两个日期的先后顺序（如公示开始不得晚于结束）。"""
    before, after = _as_date(ctx.fields.get(params["before"])), _as_date(ctx.fields.get(params["after"]))
    if before and after and after < before:
        return [Finding("date_order", "block", f"日期先后顺序不对：{after} 早于 {before}。")]
    return []


@rule("more_candidates_than_positions")
def more_candidates_than_positions(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """参考人选、考察对象一般应当多于拟任职位数（差额，2019《条例》第十八条、第二十条）。"""
    severity = str(params.get("severity", "warn"))
    if ctx.candidates <= ctx.positions:
        return [
            Finding(
                "more_candidates_than_positions",
                severity,
                f"人选 {ctx.candidates} 名，不多于拟任职位 {ctx.positions} 个，未实行差额。",
            )
        ]
    return []


def evaluate(rules: list[tuple[str, dict[str, Any]]], ctx: RuleContext) -> list[Finding]:
    findings: list[Finding] = []
    for code, params in rules:
        fn = REGISTRY.get(code)
        if fn is None:
            findings.append(Finding(code, "block", f"流程定义引用了未知规则 {code}，请联系系统管理员。"))
            continue
        findings.extend(fn(params, ctx))
    return findings
