"""The rule engine: plain facts in, findings out. No Django, no database, no clock (``today`` is a fact).

A rule is registered with its id, title, default severity and legal basis; the procedure definition binds it
to a step with parameters (thresholds live there, not here) and says when it runs: when the step starts,
when it completes, or in the periodic scan. BLOCK findings refuse the action; WARN and INFO raise warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jishi.supervision.calendar import DEFAULT as DEFAULT_CALENDAR
from jishi.supervision.calendar import WorkCalendar

BLOCK, WARN, INFO = "block", "warn", "info"
SEVERITIES = (BLOCK, WARN, INFO)


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
class StepFacts:
    """The current record of one step (for the batch or for one person)."""

    status: str  # in_progress | completed | waived
    data: dict[str, Any] = field(default_factory=dict)
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    materials: int = 0
    confirmed: bool = False  # every signer role confirmed the current revision

    @property
    def done(self) -> bool:
        return self.status in ("completed", "waived")

    @property
    def completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class FamilyFacts:
    relation: str
    name: str
    work_unit_position: str = ""


@dataclass(frozen=True)
class CadreFacts:
    name: str
    birth: dt.date
    work_start: dt.date
    grassroots_months: int
    current_rank: str
    current_rank_since: dt.date
    current_post_since: dt.date
    education: str
    inservice_education: str
    training_hours_5y: int
    resume_lines: int
    birthplace: str
    native_place: str
    family: tuple[FamilyFacts, ...] = ()
    appraisals: str = ""  # 年度考核结果, latest last


@dataclass(frozen=True)
class PositionFacts:
    title: str
    unit_name: str
    rank_level: str
    quota: int
    filled: int
    is_key_post: bool = False
    region: str = ""  # the county or city the post is in (from its organization department)


@dataclass(frozen=True)
class NomineeFacts:
    number: str
    cadre: CadreFacts
    position: PositionFacts
    steps: dict[str, StepFacts] = field(default_factory=dict)
    open_feedback: int = 0
    key_post_review: str = ""  # "" (none) | "approved" | "rejected"

    @property
    def name(self) -> str:
        return self.cadre.name


@dataclass(frozen=True)
class RuleContext:
    fields: dict[str, Any] = field(default_factory=dict)
    tally: TallyData | None = None
    positions: int = 0
    candidates: int = 0
    today: dt.date = dt.date(2000, 1, 1)
    step_id: str = ""
    record: StepFacts | None = None
    batch_steps: dict[str, StepFacts] = field(default_factory=dict)
    nominee: NomineeFacts | None = None  # set when the rule looks at one person
    nominees: tuple[NomineeFacts, ...] = ()  # the batch's active nominees
    batch_kind: str = "routine"
    team: str = ""  # 考察组成员 (K01), for 回避 checks
    calendar: WorkCalendar = DEFAULT_CALENDAR

    def step(self, step_id: str, nominee: NomineeFacts | None = None) -> StepFacts | None:
        """The current record of a step: the person's own, else the batch's."""
        who = nominee or self.nominee
        if who is not None and step_id in who.steps:
            return who.steps[step_id]
        return self.batch_steps.get(step_id)

    def people(self) -> tuple[NomineeFacts, ...]:
        """The person in question, or every active nominee for a batch-level evaluation."""
        return (self.nominee,) if self.nominee is not None else self.nominees


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "block" | "warn" | "info"
    message: str
    basis: str = ""
    nomination: str = ""  # 纪实表编号 of the person it is about, if any
    key: str = ""  # tells apart several findings of one rule about one subject
    due_on: dt.date | None = None


RuleFn = Callable[[dict[str, Any], RuleContext], list[Finding]]


@dataclass(frozen=True)
class RuleSpec:
    code: str
    title: str
    severity: str
    basis: str
    fn: RuleFn


REGISTRY: dict[str, RuleSpec] = {}


def rule(code: str, *, title: str, severity: str, basis: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule. The function returns findings made with ``hit`` (which fills severity and basis)."""
    if severity not in SEVERITIES:
        raise ValueError(severity)

    def register(fn: RuleFn) -> RuleFn:
        if code in REGISTRY:
            raise ValueError(f"rule {code} registered twice")
        REGISTRY[code] = RuleSpec(code=code, title=title, severity=severity, basis=basis, fn=fn)
        return fn

    return register


def hit(
    code: str,
    params: dict[str, Any],
    message: str,
    *,
    nominee: NomineeFacts | None = None,
    key: str = "",
    severity: str | None = None,
    due_on: dt.date | None = None,
) -> Finding:
    spec = REGISTRY[code]
    chosen = severity or str(params.get("severity", spec.severity))
    if chosen not in SEVERITIES:
        chosen = spec.severity
    return Finding(
        code=code,
        severity=chosen,
        message=message,
        basis=spec.basis,
        nomination=nominee.number if nominee else "",
        key=key or (nominee.number if nominee else ""),
        due_on=due_on,
    )


def evaluate(rules: list[tuple[str, dict[str, Any]]], ctx: RuleContext) -> list[Finding]:
    findings: list[Finding] = []
    for code, params in rules:
        spec = REGISTRY.get(code)
        if spec is None:
            findings.append(Finding(code, BLOCK, f"流程定义引用了未知规则 {code}，请联系系统管理员。"))
            continue
        findings.extend(spec.fn(params, ctx))
    return findings


# Shared readers of loosely typed field values ----------------------------------------------------------


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (negative when end is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)
