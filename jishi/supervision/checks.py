"""Where the rules run: before a step starts, when it completes, and in the periodic scan.

BLOCK findings refuse the action inside the service; the refusal itself is kept as a blocking warning so
supervisors see it, and it ends when the action later succeeds. WARN and INFO findings open warnings after
the action commits. The scan (``manage.py supervise``) re-evaluates everything, opens what is missing,
resolves what an action has cleared, and is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from jishi.procedures.schema import ProcedureDefinition, Rule, RuleWhen, Scope
from jishi.selection import transitions
from jishi.selection.models import Batch, Nomination, NominationStatus, StepRecord
from jishi.selection.selectors import batch_state

from . import services
from .facts import BatchFacts, batch_facts
from .models import EarlyWarning, WarningStatus
from .rules import Finding, evaluate

BLOCK = "block"


def _bound(definition: ProcedureDefinition, step_id: str, when: RuleWhen) -> list[tuple[str, dict[str, object]]]:
    step = definition.step(step_id)
    rules: Iterable[Rule] = list(step.rules) + (list(definition.rules) if when == RuleWhen.SCAN else [])
    return [(r.code, dict(r.params)) for r in rules if r.when == when]


def fingerprint(batch: Batch, step_id: str, nomination: Nomination | None, finding: Finding) -> str:
    return f"{finding.code}:{batch.pk}:{step_id}:{nomination.pk if nomination else '-'}:{finding.key}"


def _subject(facts: BatchFacts, nomination: Nomination | None, finding: Finding) -> Nomination | None:
    if nomination is not None or not finding.nomination:
        return nomination
    return next((n for n in facts.nominations.values() if n.number == finding.nomination), None)


def _raise(
    facts: BatchFacts,
    findings: Iterable[Finding],
    *,
    step_id: str,
    nomination: Nomination | None,
    record: StepRecord | None,
) -> list[str]:
    """Open a warning for each finding not already open; return every finding's fingerprint."""
    prints = []
    for finding in findings:
        subject = _subject(facts, nomination, finding)
        key = fingerprint(facts.batch, step_id, subject, finding)
        prints.append(key)
        services.warning_raise(
            finding=finding,
            org_unit=facts.batch.org_unit,
            fingerprint=key,
            batch=facts.batch,
            nomination=subject,
            record=record,
            step_id=step_id,
        )
    return prints


# Hooks called by selection.services ----------------------------------------------------------------------


def start_findings(batch: Batch, step_id: str, nomination: Nomination | None) -> tuple[BatchFacts, list[Finding]]:
    facts = batch_facts(batch)
    rules = _bound(batch.procedure.definition, step_id, RuleWhen.START)
    return facts, (evaluate(rules, facts.context(step_id, nomination=nomination)) if rules else [])


def complete_findings(record: StepRecord) -> tuple[BatchFacts, list[Finding]]:
    facts = batch_facts(record.batch)
    rules = _bound(record.batch.procedure.definition, record.step_id, RuleWhen.COMPLETE)
    ctx = facts.context(record.step_id, nomination=record.nomination, record=record)
    return facts, (evaluate(rules, ctx) if rules else [])


def record_outcome(
    facts: BatchFacts,
    findings: list[Finding],
    *,
    step_id: str,
    nomination: Nomination | None,
    record: StepRecord | None,
    refused: bool,
) -> None:
    """After the action (in its own transactions): keep refusals as blocking warnings, raise the rest;
    when the action went through, end the blocking warnings it had met before."""
    if refused:
        _raise(
            facts, [f for f in findings if f.severity == BLOCK], step_id=step_id, nomination=nomination, record=record
        )
        return
    _raise(facts, [f for f in findings if f.severity != BLOCK], step_id=step_id, nomination=nomination, record=record)
    prefix_filter = Q(batch=facts.batch, step_id=step_id, severity=BLOCK, status=WarningStatus.OPEN)
    if nomination is not None:
        prefix_filter &= Q(nomination=nomination) | Q(nomination__isnull=True)
    for warning in EarlyWarning.objects.filter(prefix_filter):
        services.warning_resolve(
            warning=warning, note=f"{step_id} 已依规办理（{timezone.localtime():%Y-%m-%d %H:%M}）。"
        )


# The scan -----------------------------------------------------------------------------------------------


@dataclass
class ScanReport:
    batches: int = 0
    evaluated: int = 0
    raised: list[EarlyWarning] = field(default_factory=list)
    resolved: list[EarlyWarning] = field(default_factory=list)
    calendar_notices: int = 0  # administrators told that a year in use has no holiday data


def _scan_batch(batch: Batch, today: dt.date, report: ScanReport) -> None:
    facts = batch_facts(batch, today=today)
    definition = batch.procedure.definition
    state = batch_state(batch)
    found: set[str] = set()
    before = set(
        EarlyWarning.objects.filter(batch=batch, status=WarningStatus.OPEN).values_list("fingerprint", flat=True)
    )

    def run(step_id: str, nomination: Nomination | None, record: StepRecord | None) -> None:
        ctx = facts.context(step_id, nomination=nomination, record=record)
        targets: list[tuple[RuleWhen, bool]] = [(RuleWhen.SCAN, True)]
        if record is not None and record.is_done:
            targets.append((RuleWhen.COMPLETE, True))
        elif record is not None:
            targets.append((RuleWhen.COMPLETE, False))  # only keeps earlier refusals alive
        else:
            cell = transitions.cell_state(definition, state, step_id, nomination.pk if nomination else None)
            if cell == transitions.Cell.AVAILABLE:
                targets.append((RuleWhen.START, True))
        for when, may_raise in targets:
            rules = _bound(definition, step_id, when)
            if not rules:
                continue
            report.evaluated += len(rules)
            findings = evaluate(rules, ctx)
            if may_raise:
                found.update(_raise(facts, findings, step_id=step_id, nomination=nomination, record=record))
            else:
                found.update(
                    fingerprint(batch, step_id, _subject(facts, nomination, f), f)
                    for f in findings
                    if f.severity == BLOCK
                )

    for step in definition.steps():
        if step.scope == Scope.BATCH:
            run(step.id, None, facts.batch_records.get(step.id))
        else:
            for pk, nomination in facts.nominations.items():
                if nomination.status != NominationStatus.ACTIVE:
                    continue
                run(step.id, nomination, facts.nomination_records.get((pk, step.id)))
    after = EarlyWarning.objects.filter(batch=batch, status=WarningStatus.OPEN)
    report.raised.extend(w for w in after if w.fingerprint not in before)
    for warning in after:
        if warning.fingerprint not in found:
            report.resolved.append(services.warning_resolve(warning=warning, note=_cleared_note(warning, facts)))


def _cleared_note(warning: EarlyWarning, facts: BatchFacts) -> str:
    if warning.nomination_id and facts.nominations.get(warning.nomination_id) is not None:
        nomination = facts.nominations[warning.nomination_id]
        if nomination.status != NominationStatus.ACTIVE:
            return f"人选 {nomination.cadre.name} 已退出本批次，预警随之结束。"
    return "巡检时该情形已不存在（已通过后续办理或更正消除）。"


def scan(*, today: dt.date | None = None, progress: Callable[[str], None] | None = None) -> ScanReport:
    from .calendar_admin import calendar_warn_admins

    today = today or timezone.localdate()
    report = ScanReport()
    report.calendar_notices = len(calendar_warn_admins(today=today))
    batches = list(Batch.objects.select_related("org_unit", "procedure").order_by("id"))
    for index, batch in enumerate(batches, 1):
        _scan_batch(batch, today, report)
        report.batches += 1
        if progress:
            progress(f"[{index}/{len(batches)}] {batch.number}")
    return report
