"""Reads that cross relations: batch state for the engine, flow map, to-do list, timelines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.roles import ROLE_LABELS, Role
from jishi.procedures.schema import ProcedureDefinition, Scope

from . import transitions
from .models import Batch, Confirmation, Nomination, NominationStatus, RecordStatus, StepRecord


def _prefetched(batch: Batch, relation: str) -> bool:
    return relation in getattr(batch, "_prefetched_objects_cache", {})


def with_state(batches: QuerySet[Batch]) -> QuerySet[Batch]:
    """Batches whose state, summary and flow map are read without a query per batch (lists and the dashboard)."""
    return batches.prefetch_related("records", "nominations__cadre", "nominations__position")


def with_summary(batches: QuerySet[Batch]) -> QuerySet[Batch]:
    """Batches for lists that show ``batch_summary``: records are read only for unfinished batches.

    A finished batch's summary comes from its 办结时间 (kept by the services) and its nominations; ten years of
    finished batches would otherwise load a hundred records each for one word in a list.
    """
    open_records = StepRecord.objects.filter(batch__finished_at__isnull=True)
    return batches.prefetch_related(
        Prefetch("records", queryset=open_records, to_attr="open_records"),
        "nominations__cadre",
        "nominations__position",
    )


def _records(batch: Batch) -> list[StepRecord]:
    """The batch's records in id order: from a ``with_state``/``with_summary`` prefetch when there is one, else one
    query."""
    if batch.finished_at is None and hasattr(batch, "open_records"):
        return sorted(batch.open_records, key=lambda r: r.pk)
    if _prefetched(batch, "records"):
        return sorted(batch.records.all(), key=lambda r: r.pk)
    return list(batch.records.all().order_by("id"))


def _nominations(batch: Batch) -> list[Nomination]:
    """The batch's nominations (with cadre and position) in id order, from the prefetch when there is one."""
    if _prefetched(batch, "nominations"):
        return sorted(batch.nominations.all(), key=lambda n: n.pk)
    return list(batch.nominations.select_related("cadre", "position").order_by("id"))


def _current_records(batch: Batch) -> list[StepRecord]:
    """The latest record of each (step, nomination): a corrected record is replaced by its correction."""
    records = _records(batch)
    latest: dict[tuple[str, int | None], StepRecord] = {}
    for record in records:
        latest[(record.step_id, record.nomination_id)] = record
    return list(latest.values())


def current_record(batch: Batch, step_id: str, nomination: Nomination | None) -> StepRecord | None:
    return (
        StepRecord.objects.filter(batch=batch, step_id=step_id, nomination=nomination)
        .select_related("batch__org_unit", "batch__procedure", "nomination__cadre")
        .order_by("-id")
        .first()
    )


def batch_state(batch: Batch) -> transitions.BatchState:
    if _prefetched(batch, "nominations"):
        active = frozenset(n.pk for n in batch.nominations.all() if n.status == NominationStatus.ACTIVE)
    else:
        active = frozenset(batch.nominations.filter(status=NominationStatus.ACTIVE).values_list("pk", flat=True))
    state = transitions.BatchState(active=active)
    current: list[tuple[str, int | None, str]]
    if hasattr(batch, "open_records") or _prefetched(batch, "records"):
        current = [(r.step_id, r.nomination_id, r.status) for r in _current_records(batch)]
    else:
        # Three columns, not whole records: every step service asks for the state, some twice.
        latest: dict[tuple[str, int | None], str] = {}
        for step, nomination, status in batch.records.order_by("id").values_list("step_id", "nomination_id", "status"):
            latest[(step, nomination)] = status
        current = [(step, nomination, status) for (step, nomination), status in latest.items()]
    for step_id, nomination_id, status in current:
        if nomination_id is None:
            state.batch[step_id] = status
        else:
            state.nominations.setdefault(nomination_id, {})[step_id] = status
    return state


@dataclass
class FlowCell:
    step_id: str
    name: str
    state: str
    record_id: int | None


@dataclass
class FlowRow:
    label: str
    nomination: Nomination | None
    cells: list[list[FlowCell]]  # per stage


def flow_map(batch: Batch) -> tuple[ProcedureDefinition, list[FlowRow]]:
    """Stages × steps for the batch row and each nomination, with each cell's state."""
    definition = batch.procedure.definition
    state = batch_state(batch)
    records = {(r.step_id, r.nomination_id): r for r in _current_records(batch)}
    nominations = _nominations(batch)
    rows: list[FlowRow] = []
    for nomination in [None, *nominations]:
        stages = []
        for stage in definition.stages:
            cells = []
            for step in stage.steps:
                applies = (step.scope == Scope.BATCH) == (nomination is None)
                if not applies:
                    cells.append(FlowCell(step.id, step.name, "na", None))
                    continue
                nid = nomination.pk if nomination else None
                record = records.get((step.id, nid))
                cells.append(
                    FlowCell(
                        step.id,
                        step.name,
                        transitions.cell_state(definition, state, step.id, nid),
                        record.pk if record else None,
                    )
                )
            stages.append(cells)
        label = "批次事项" if nomination is None else f"{nomination.cadre.name}"
        rows.append(FlowRow(label, nomination, stages))
    return definition, rows


def batches_for_user(user: User) -> QuerySet[Batch]:
    return (
        Batch.objects.filter(org_unit_id__in=perms.visible_unit_ids(user))
        .select_related("org_unit", "procedure", "created_by")
        .order_by("-created_at")
    )


def batch_summary(batch: Batch) -> dict[str, Any]:
    if batch.finished_at is not None:  # every step done: the services keep the marker equal to the records
        nominations = batch.nominations.all()  # no query after a with_state/with_summary prefetch
        return {
            "stage": transitions.FINISHED_STAGE,
            "finished": True,
            "active": sum(1 for n in nominations if n.status == NominationStatus.ACTIVE),
            "total": len(nominations),
        }
    definition = batch.procedure.definition
    state = batch_state(batch)
    return {
        "stage": transitions.current_stage(definition, state),
        "finished": transitions.is_finished(definition, state),
        "active": len(state.active),
        "total": batch.nominations.count(),  # no query after a with_state prefetch
    }


@dataclass
class Todo:
    batch: Batch
    step_id: str
    step_name: str
    nomination: Nomination | None
    kind: str  # 办理 / 确认 / 继续
    role_label: str = ""
    record_id: int | None = None


def todos_for_user(user: User) -> list[Todo]:
    """Steps the user may start or continue, and records waiting for the user's confirmation."""
    todos: list[Todo] = []
    batches = with_state(batches_for_user(user).filter(finished_at__isnull=True)).prefetch_related(
        Prefetch("records__confirmations", queryset=Confirmation.objects.only("record_id", "revision", "role"))
    )
    for batch in batches:
        definition = batch.procedure.definition
        state = batch_state(batch)
        if transitions.is_finished(definition, state):
            continue
        noms = {n.pk: n for n in _nominations(batch)}
        for step_id, nid in transitions.available_steps(definition, state):
            step = definition.step(step_id)
            if perms.can_work_on_step(user, batch, step.responsible_roles):
                todos.append(Todo(batch, step_id, step.name, noms.get(nid) if nid else None, "办理"))
        for record in _current_records(batch):
            if record.status != RecordStatus.IN_PROGRESS:
                continue
            if record.nomination_id and not noms[record.nomination_id].is_active:
                continue
            step = definition.step(record.step_id)
            nomination = noms.get(record.nomination_id) if record.nomination_id else None
            confirmed = {c.role for c in record.confirmations.all() if c.revision == record.revision}
            for role in step.signer_roles:
                if role not in confirmed and perms.can_confirm_as(user, batch, role, step.signer_roles):
                    todos.append(
                        Todo(batch, record.step_id, step.name, nomination, "确认", ROLE_LABELS[Role(role)], record.pk)
                    )
            if perms.can_work_on_step(user, batch, step.responsible_roles):
                todos.append(Todo(batch, record.step_id, step.name, nomination, "继续", "", record.pk))
    return todos


def nomination_finished(nomination: Nomination) -> bool:
    """Every step done for this person (their own steps and the batch's)."""
    definition = nomination.batch.procedure.definition
    state = batch_state(nomination.batch)
    return all(
        transitions.cell_state(definition, state, step.id, nomination.pk)
        in (transitions.Cell.DONE, transitions.Cell.WAIVED)
        for step in definition.steps()
    )


def timeline(nomination: Nomination) -> list[dict[str, Any]]:
    """The person's whole process: batch steps and own steps in procedure order, with records."""
    batch = nomination.batch
    definition = batch.procedure.definition
    state = batch_state(batch)
    all_records = list(
        batch.records.filter(Q(nomination__isnull=True) | Q(nomination=nomination))
        .select_related("completed_by", "started_by")
        .prefetch_related("confirmations__user")
        .order_by("id")
    )
    entries = []
    for stage in definition.stages:
        for step in stage.steps:
            nid = nomination.pk if step.scope == Scope.NOMINATION else None
            history = [r for r in all_records if r.step_id == step.id and r.nomination_id == nid]
            entries.append(
                {
                    "stage": stage.name,
                    "step": step,
                    "state": transitions.cell_state(definition, state, step.id, nid),
                    "records": history,
                }
            )
    return entries
