"""Plain facts for the rule engine, read from the database in a bounded number of queries per batch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from jishi.cadres.models import Cadre, Position
from jishi.selection.models import Batch, Nomination, NominationStatus, StepRecord

from .calendar import WorkCalendar
from .models import FeedbackStatus, KeyPostReview
from .rules import (
    CadreFacts,
    FamilyFacts,
    NomineeFacts,
    PositionFacts,
    RuleContext,
    StepFacts,
    TallyData,
    TallyLine,
)
from .selectors_calendar import work_calendar


def region_of(unit_name: str) -> str:
    """中共威远县委组织部 → 威远县 (the place an organization department serves)."""
    name = unit_name.removeprefix("中共")
    for suffix in ("委组织部", "组织部"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return ""


def cadre_facts(cadre: Cadre) -> CadreFacts:
    return CadreFacts(
        name=cadre.name,
        birth=cadre.birth_month,
        work_start=cadre.work_start_month,
        grassroots_months=cadre.grassroots_months,
        current_rank=cadre.current_rank,
        current_rank_since=cadre.current_rank_since,
        current_post_since=cadre.current_post_since,
        education=cadre.fulltime_education,
        inservice_education=cadre.inservice_education,
        training_hours_5y=cadre.training_hours_5y,
        resume_lines=len(cadre.resume_lines()),
        birthplace=cadre.birthplace,
        native_place=cadre.native_place,
        family=tuple(FamilyFacts(f.relation, f.name, f.work_unit_position) for f in cadre.family.all()),
        appraisals=cadre.annual_appraisals,
    )


def position_facts(position: Position) -> PositionFacts:
    return PositionFacts(
        title=position.title,
        unit_name=position.unit_name,
        rank_level=position.rank_level,
        quota=position.quota,
        filled=position.filled,
        is_key_post=position.is_key_post,
        region=region_of(position.org_unit.name),
    )


def step_facts(record: StepRecord, signer_roles: tuple[str, ...]) -> StepFacts:
    confirmed_roles = {c.role for c in record.confirmations.all() if c.revision == record.revision}
    counted = getattr(record, "material_count", None)  # annotated by batch_facts; 0 is an answer, not a miss
    return StepFacts(
        status=record.status,
        data=dict(record.data),
        started_on=timezone.localtime(record.started_at).date(),
        completed_on=timezone.localtime(record.completed_at).date() if record.completed_at else None,
        materials=counted if counted is not None else record.materials.count(),
        confirmed=set(signer_roles) <= confirmed_roles,
    )


@dataclass
class BatchFacts:
    """Everything the rules may read about one batch, loaded once."""

    batch: Batch
    today: dt.date
    calendar: WorkCalendar
    batch_steps: dict[str, StepFacts] = field(default_factory=dict)
    batch_records: dict[str, StepRecord] = field(default_factory=dict)
    nominees: dict[int, NomineeFacts] = field(default_factory=dict)
    nomination_records: dict[tuple[int, str], StepRecord] = field(default_factory=dict)
    nominations: dict[int, Nomination] = field(default_factory=dict)

    def active(self) -> tuple[NomineeFacts, ...]:
        return tuple(self.nominees[pk] for pk, n in self.nominations.items() if n.status == NominationStatus.ACTIVE)

    def context(
        self, step_id: str, *, nomination: Nomination | None = None, record: StepRecord | None = None
    ) -> RuleContext:
        step = self.batch.procedure.definition.step(step_id)
        record_facts = step_facts(record, tuple(step.signer_roles)) if record is not None else None
        tally = _tally(record) if record is not None else None
        active = self.active()
        return RuleContext(
            fields=dict(record.data) if record is not None else {},
            tally=tally,
            positions=self.batch.positions.count(),
            candidates=len(active),
            today=self.today,
            step_id=step_id,
            record=record_facts,
            batch_steps=self.batch_steps,
            nominee=self.nominees.get(nomination.pk) if nomination is not None else None,
            nominees=active,
            batch_kind=self.batch.kind,
            calendar=self.calendar,
        )


def _tally(record: StepRecord) -> TallyData | None:
    tally = getattr(record, "tally", None)
    if tally is None:
        return None
    lines = tuple(
        TallyLine(line.nomination.cadre.name, line.approve, line.oppose, line.abstain, line.defer)
        for line in tally.lines.select_related("nomination__cadre")
        if line.nomination.status == NominationStatus.ACTIVE
    )
    return TallyData(tally.due, tally.present, tally.valid_ballots, lines)


def batch_facts(batch: Batch, *, today: dt.date | None = None, calendar: WorkCalendar | None = None) -> BatchFacts:
    definition = batch.procedure.definition
    signers = {s.id: tuple(s.signer_roles) for s in definition.steps()}
    facts = BatchFacts(batch=batch, today=today or timezone.localdate(), calendar=calendar or work_calendar())
    records = (
        StepRecord.objects.filter(batch=batch, corrected_by__isnull=True)
        .annotate(material_count=Count("materials"))
        .prefetch_related("confirmations")
        .order_by("id")
    )
    own: dict[int, dict[str, StepFacts]] = {}
    for record in records:
        step_signers = signers.get(record.step_id, ())
        if record.nomination_id is None:
            facts.batch_records[record.step_id] = record
            facts.batch_steps[record.step_id] = step_facts(record, step_signers)
        else:
            facts.nomination_records[(record.nomination_id, record.step_id)] = record
            own.setdefault(record.nomination_id, {})[record.step_id] = step_facts(record, step_signers)
    nominations = (
        batch.nominations.select_related("cadre", "position__org_unit")
        .prefetch_related("cadre__family")
        .annotate(open_feedback=Count("public_feedback", filter=Q(public_feedback__status=FeedbackStatus.OPEN)))
        .order_by("id")
    )
    reviews = {
        r.nomination_id: ("approved" if r.approved else "rejected")
        for r in KeyPostReview.objects.filter(nomination__batch=batch)
    }
    for nomination in nominations:
        facts.nominations[nomination.pk] = nomination
        facts.nominees[nomination.pk] = NomineeFacts(
            number=nomination.number,
            cadre=cadre_facts(nomination.cadre),
            position=position_facts(nomination.position),
            steps=own.get(nomination.pk, {}),
            open_feedback=getattr(nomination, "open_feedback", 0),
            key_post_review=reviews.get(nomination.pk, ""),
        )
    return facts
