"""回避, 交流 and the timeliness and signing of records (W33–W36, W43, W44)."""

from __future__ import annotations

from typing import Any

from .engine import BLOCK, INFO, WARN, Finding, RuleContext, as_date, hit, months_between, rule

AVOIDANCE = "《党政领导干部任职回避暂行规定》"
CHIEF_WORDS = ("书记", "县长", "区长", "市长", "局长", "部长", "院长", "检察长", "主任")
KEY_ORGANS = ("党委", "县委", "区委", "市委", "政府", "纪委", "监委", "组织部", "法院", "检察院", "公安")
BUSINESS_WORDS = ("公司", "企业", "集团", "个体", "经营")


@rule("W33", title="任职回避（亲属关系）", severity=BLOCK, basis=f"{AVOIDANCE}第三条")
def w33_kinship(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        unit = n.position.unit_name
        for relative in n.cadre.family:
            if unit and unit in relative.work_unit_position:
                findings.append(
                    hit(
                        "W33",
                        params,
                        f"{n.name} 的{relative.relation}{relative.name}在拟任单位（{relative.work_unit_position}）"
                        "任职，须实行任职回避。",
                        nominee=n,
                        key=f"{n.number}:{relative.name}",
                    )
                )
    return findings


@rule("W34", title="亲属经营企业回避", severity=INFO, basis=f"{AVOIDANCE}第四条")
def w34_relatives_business(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        for relative in n.cadre.family:
            if any(word in relative.work_unit_position for word in BUSINESS_WORDS):
                findings.append(
                    hit(
                        "W34",
                        params,
                        f"{n.name} 的{relative.relation}{relative.name}在企业任职（{relative.work_unit_position}），"
                        f"请核实是否属于{n.position.unit_name}管理的行业。",
                        nominee=n,
                        key=f"{n.number}:{relative.name}",
                    )
                )
    return findings


def _is_chief(title: str) -> bool:
    return "副" not in title and any(word in title for word in CHIEF_WORDS)


@rule(
    "W35",
    title="地域回避",
    severity=BLOCK,
    basis=f"{AVOIDANCE}；县（市）党委、政府及纪检、组织、法院、检察院、公安正职不得在成长地任职",
)
def w35_home_region(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        region = n.position.region
        core = region.rstrip("县区市") if region else ""
        if len(core) < 2 or not _is_chief(n.position.title):
            continue
        if not any(organ in n.position.unit_name for organ in KEY_ORGANS):
            continue
        if core in n.cadre.birthplace or core in n.cadre.native_place:
            county = region.endswith(("县", "区"))
            message = f"{n.name} 的籍贯或出生地在{region}，拟任{n.position.unit_name}{n.position.title}" + (
                "，属县（市）重要机关正职，须实行地域回避。" if county else "，市级一般不得在成长地任正职，请说明。"
            )
            findings.append(hit("W35", params, message, nominee=n, severity=None if county else WARN))
    return findings


@rule(
    "W36",
    title="交流与任职年限",
    severity=WARN,
    basis="《党政领导干部交流工作规定》：同一职位任职满十年应当交流；同一层级满十五年不再同级任职",
)
def w36_rotation(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    findings = []
    for n in ctx.people():
        in_post = months_between(n.cadre.current_post_since, ctx.today)
        at_rank = months_between(n.cadre.current_rank_since, ctx.today)
        if in_post >= int(params.get("post_months", 120)):
            findings.append(
                hit(
                    "W36",
                    params,
                    f"{n.name} 任现职已 {in_post // 12} 年，应当交流。",
                    nominee=n,
                    key=f"{n.number}:post",
                )
            )
        if at_rank >= int(params.get("rank_months", 180)):
            findings.append(
                hit(
                    "W36",
                    params,
                    f"{n.name} 在同一职级已 {at_rank // 12} 年，请核实是否符合任职规定。",
                    nominee=n,
                    key=f"{n.number}:rank",
                )
            )
    return findings


@rule("W43", title="纪实时效", severity=WARN, basis="同步纪实：事项办理后应及时纪实（时限由本单位在流程定义中设定）")
def w43_timeliness(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    record = ctx.record
    if record is None or record.started_on is None:
        return []
    days = int(params.get("working_days", 10))
    if not record.done:
        due = ctx.calendar.add_working_days(record.started_on, days)
        if ctx.today > due:
            return [
                hit(
                    "W43",
                    params,
                    f"{ctx.step_id} 于 {record.started_on} 开始纪实，超过 {days} 个工作日仍未办结。",
                    due_on=due,
                )
            ]
        return []
    if record.completed_on is None:
        return []
    occurred = [d for d in (as_date(v) for v in record.data.values()) if d is not None and d <= record.completed_on]
    if not occurred:
        return []
    latest = max(occurred)
    if ctx.calendar.working_days_between(latest, record.completed_on) - 1 > days:
        return [
            hit(
                "W43",
                params,
                f"{ctx.step_id} 所记事项发生于 {latest}，{record.completed_on} 才办结纪实，"
                f"超过 {days} 个工作日（事后补记）。",
                severity=INFO,
            )
        ]
    return []


@rule("W44", title="纪实签字", severity=WARN, basis="每项纪实材料须经责任人签字确认（内江市全程纪实办法）")
def w44_unsigned(params: dict[str, Any], ctx: RuleContext) -> list[Finding]:
    record = ctx.record
    if record is None or record.done or record.started_on is None or record.materials == 0 or record.confirmed:
        return []
    due = ctx.calendar.add_working_days(record.started_on, int(params.get("working_days", 5)))
    if ctx.today > due:
        return [
            hit(
                "W44",
                params,
                f"{ctx.step_id} 已登记 {record.materials} 份材料，超过期限仍未经责任人签字确认。",
                due_on=due,
            )
        ]
    return []


__all__ = ["BLOCK"]
