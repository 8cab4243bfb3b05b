"""职数, 事前报告, 破格 and qualifications (W01–W11)."""

from __future__ import annotations

from typing import Any

from .engine import BLOCK, INFO, WARN, Finding, NomineeFacts, RuleContext, StepFacts, as_date, as_int, hit, rule
from .engine import months_between as months

TIAOLI = "《党政领导干部选拔任用工作条例》（2019）"
REPORTING = "《四川省党政领导干部选拔任用工作有关事项报告办法》"

# 职务层次 from the lowest; a promotion is a move up this list.
RANKS = (
    "staff",
    "township_deputy",
    "township_chief",
    "county_deputy",
    "county_chief",
    "bureau_deputy",
    "bureau_chief",
)
RANK_LABELS = {
    "staff": "科员及以下",
    "township_deputy": "乡科级副职",
    "township_chief": "乡科级正职",
    "county_deputy": "县处级副职",
    "county_chief": "县处级正职",
    "bureau_deputy": "厅局级副职",
    "bureau_chief": "厅局级正职",
}


def rank_index(code: str) -> int:
    return RANKS.index(code) if code in RANKS else 0


def promotion_steps(nominee: NomineeFacts) -> int:
    return rank_index(nominee.position.rank_level) - rank_index(nominee.cadre.current_rank)


def approved_report(ctx: RuleContext, matter: str, step_id: str = "D05") -> bool:
    """The batch's 事前报告 on this matter was answered 同意."""
    report = ctx.batch_steps.get(step_id)
    return bool(
        report is not None
        and report.completed
        and report.data.get("matter") == matter
        and report.data.get("reply_opinion") == "同意"
    )


def _over_quota(record: StepFacts | None, fields: dict[str, Any]) -> tuple[int, int] | None:
    data = fields if record is None else {**record.data, **fields}
    quota, filled = as_int(data.get("quota")), as_int(data.get("currently_filled"))
    remove, appoint = as_int(data.get("to_remove")), as_int(data.get("to_appoint"))
    if None in (quota, filled, remove, appoint):
        return None
    after = filled - remove + appoint  # type: ignore[operator]
    return (after, quota) if after > quota else None  # type: ignore[operator, return-value]


@rule("W01", title="超职数配备", severity=BLOCK, basis=f"2014《条例》第六十一条；{REPORTING}第三项；职数预审")
def w01_over_quota(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    """At 职数预审 a warning (a report is needed); when the plan starts, a block unless the report was approved."""
    source = ctx.batch_steps.get(str(params.get("quota_step", "D04")))
    over = _over_quota(None, ctx.fields) if ctx.step_id == params.get("quota_step", "D04") else _over_quota(source, {})
    if over is None:
        return []
    after, quota = over
    if approved_report(ctx, "超职数配备"):
        return [
            hit("W01", params, f"配备后 {after} 人超过核定职数 {quota} 人，已按事前报告经上级同意。", severity=INFO)
        ]
    return [hit("W01", params, f"配备后 {after} 人超过核定职数 {quota} 人，须事前报告并经上级同意。")]


@rule("W02", title="无职数空缺启动选任", severity=BLOCK, basis="职数预审：无空缺职数的不得启动选任")
def w02_no_vacancy(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    to_remove = as_int(ctx.fields.get("to_remove")) or 0
    seen, findings = set(), []
    for nominee in ctx.nominees:
        p = nominee.position
        if (p.unit_name, p.title) in seen:
            continue
        seen.add((p.unit_name, p.title))
        if p.filled >= p.quota and to_remove == 0:
            findings.append(
                hit(
                    "W02",
                    params,
                    f"{p.unit_name}{p.title} 核定 {p.quota} 名、现配 {p.filled} 名，没有空缺，且本次无拟免职务。",
                    key=f"{p.unit_name}{p.title}",
                )
            )
    return findings


@rule("W03", title="事前报告未获答复", severity=BLOCK, basis=f"{REPORTING}；上级应在十个工作日内答复")
def w03_prior_report(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    report = ctx.batch_steps.get(str(params.get("report_step", "D05")))
    if report is None or report.status == "waived":
        return []
    if ctx.step_id == params.get("report_step", "D05"):  # the scan: a reply is due within N working days
        reported = as_date(report.data.get("reported_on"))
        if report.done or reported is None or report.data.get("replied_on"):
            return []
        due = ctx.calendar.add_working_days(reported, int(params.get("reply_days", 10)))
        if ctx.today > due:
            return [
                hit(
                    "W03",
                    params,
                    f"事前报告于 {reported} 报送，已超过答复期限（{due}）仍未答复。",
                    severity=WARN,
                    due_on=due,
                )
            ]
        return []
    if not report.completed or report.data.get("reply_opinion") != "同意":
        return [hit("W03", params, "事前报告事项未经上级答复同意，不得提交会议讨论决定。")]
    return []


def _qualification_gaps(
    nominee: NomineeFacts,
    ctx: RuleContext,
    params: dict[str, Any],
    kinds: tuple[str, ...] = ("service", "tenure", "jump"),
) -> list[str]:
    """What the person lacks for the post: ``service`` (工龄, 基层), ``tenure`` (任职年限), ``jump`` (越级)."""
    cadre, target = nominee.cadre, nominee.position.rank_level
    gaps: list[str] = []
    steps = promotion_steps(nominee)
    if steps <= 0:
        return gaps
    if "service" in kinds and rank_index(target) >= rank_index("county_deputy"):
        work = months(cadre.work_start, ctx.today)
        if work < int(params.get("work_months", 60)):
            gaps.append(f"参加工作 {work} 个月，不满五年")
        if cadre.grassroots_months < int(params.get("grassroots_months", 24)):
            gaps.append(f"基层工作经历 {cadre.grassroots_months} 个月，不满两年")
    at_rank = months(cadre.current_rank_since, ctx.today)
    deputy_to_chief = cadre.current_rank.endswith("_deputy")
    needed = int(params.get("deputy_to_chief_months", 24) if deputy_to_chief else params.get("chief_up_months", 36))
    current = RANK_LABELS.get(cadre.current_rank, "现职级")
    if "tenure" in kinds and steps == 1 and at_rank < needed:
        gaps.append(f"任{current} {at_rank} 个月，不满 {needed // 12} 年")
    if "jump" in kinds and steps >= 2:
        gaps.append(f"由{current}越级提任{RANK_LABELS.get(target, '')}")
    return gaps


def _gap_findings(code: str, kinds: tuple[str, ...], params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for nominee in ctx.people():
        gaps = _qualification_gaps(nominee, ctx, params, kinds)
        if not gaps:
            continue
        text = "；".join(gaps)
        if approved_report(ctx, "破格提拔"):
            message = f"{nominee.name}：{text}，按破格提拔程序办理（已经上级同意）。"
            findings.append(hit(code, params, message, nominee=nominee, severity=INFO))
        else:
            message = f"{nominee.name}：{text}；不具备任职资格，须按破格提拔履行事前报告。"
            findings.append(hit(code, params, message, nominee=nominee))
    return findings


@rule("W06", title="任职资格：工龄与基层经历", severity=BLOCK, basis=f"{TIAOLI}第八条（一）")
def w06_service(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return _gap_findings("W06", ("service",), params, ctx)


@rule(
    "W07",
    title="任职资格：任职年限",
    severity=BLOCK,
    basis=f"{TIAOLI}第八条（三）：副职提正职两年以上，下级正职提上级副职三年以上",
)
def w07_tenure(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    return _gap_findings("W07", ("tenure",), params, ctx)


@rule(
    "W04", title="破格提拔须事先报告同意", severity=BLOCK, basis=f"{TIAOLI}第九条；越级或未经民主推荐的须在考察前报告"
)
def w04_exceptional_precondition(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    needing = [n for n in ctx.people() if _qualification_gaps(n, ctx, params)]
    if needing and not approved_report(ctx, "破格提拔"):
        names = "、".join(n.name for n in needing)
        return [hit("W04", params, f"{names} 须破格提拔，事前报告未经上级同意，不得开始考察。")]
    return []


@rule(
    "W05",
    title="破格提拔的限制",
    severity=BLOCK,
    basis=f"{TIAOLI}第九条：试用期未满或提拔任职不满一年的不得破格；不得越两级",
)
def w05_exceptional_limits(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for nominee in ctx.people():
        steps = promotion_steps(nominee)
        if steps <= 0:
            continue
        at_rank = months(nominee.cadre.current_rank_since, ctx.today)
        exceptional = bool(_qualification_gaps(nominee, ctx, params))
        if exceptional and at_rank < int(params.get("min_months", 12)):
            findings.append(
                hit(
                    "W05",
                    params,
                    f"{nominee.name} 提拔任现职级仅 {at_rank} 个月，不满一年，不得破格提拔。",
                    nominee=nominee,
                )
            )
        if steps >= 3:
            findings.append(
                hit(
                    "W05", params, f"{nominee.name} 越两级提拔，不允许。", nominee=nominee, key=f"{nominee.number}:jump"
                )
            )
    return findings


@rule("W08", title="两个以上职位任职经历", severity=WARN, basis=f"{TIAOLI}第八条（二）")
def w08_two_posts(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    minimum = int(params.get("min_resume_lines", 3))
    return [
        hit(
            "W08", params, f"{n.name} 简历仅 {n.cadre.resume_lines} 段，请核实是否具有两个以上职位任职经历。", nominee=n
        )
        for n in ctx.people()
        if promotion_steps(n) > 0 and n.cadre.resume_lines < minimum
    ]


def education_level(text: str) -> int:
    if any(word in text for word in ("研究生", "博士", "硕士")):
        return 4
    if "本科" in text or text.strip() == "大学":
        return 3
    if "专科" in text or "大专" in text:
        return 2
    return 1 if text.strip() else 0


@rule("W09", title="学历要求", severity=WARN, basis=f"{TIAOLI}第八条（四）")
def w09_education(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        level = max(education_level(n.cadre.education), education_level(n.cadre.inservice_education))
        bureau = rank_index(n.position.rank_level) >= rank_index("bureau_deputy")
        needed = int(params.get("bureau_min" if bureau else "county_min", 3 if bureau else 2))
        if rank_index(n.position.rank_level) >= rank_index("county_deputy") and level < needed:
            want = "大学本科" if needed >= 3 else "大学专科"
            findings.append(hit("W09", params, f"{n.name} 学历低于{want}，请核实。", nominee=n))
    return findings


@rule(
    "W10",
    title="任前培训",
    severity=WARN,
    basis=f"{TIAOLI}第八条（五）：五年内累计三个月以上培训，确因特殊情况未达到的提任后一年内完成",
)
def w10_training(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    hours = int(params.get("hours", 550))
    return [
        hit(
            "W10",
            params,
            f"{n.name} 近五年培训 {n.cadre.training_hours_5y} 学时，不足 {hours} 学时；须在提任后一年内完成。",
            nominee=n,
        )
        for n in ctx.people()
        if n.cadre.training_hours_5y < hours
    ]


@rule("W11", title="不得列为考察对象", severity=BLOCK, basis=f"{TIAOLI}第二十四条")
def w11_not_eligible(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        reasons = []
        discipline = ctx.step(str(params.get("discipline_step", "D06")), n)
        if discipline and discipline.data.get("opinion") == "存在影响使用的问题":
            reasons.append("纪检监察机关意见为存在影响使用的问题")
        audit = ctx.step(str(params.get("archive_step", "D07")), n)
        if audit and audit.data.get("result") == "不通过":
            reasons.append("干部档案初审不通过")
        lines = [line for line in n.cadre.appraisals.replace("；", "\n").splitlines() if line.strip()]
        if lines and ("不称职" in lines[-1] or "基本称职" in lines[-1]):
            reasons.append(f"最近一年年度考核为“{lines[-1].strip()}”")
        if reasons:
            findings.append(hit("W11", params, f"{n.name}：{'；'.join(reasons)}，不得列为考察对象。", nominee=n))
    return findings
