"""What may happen next — pure: takes the definition and plain state, returns plain data.

A batch-scope prerequisite must be done for the batch; a nomination-scope prerequisite must be done
for the nomination in question, or — when the step waiting on it is batch-scope — for every active
nomination of the batch (batch steps gate every nomination, and wait for all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from jishi.procedures.schema import ProcedureDefinition, Scope


class Cell(StrEnum):
    DONE = "done"
    WAIVED = "waived"
    IN_PROGRESS = "in_progress"
    AVAILABLE = "available"
    LOCKED = "locked"
    DROPPED = "dropped"


DONE_STATES = frozenset({"completed", "waived"})


@dataclass(frozen=True)
class BatchState:
    """Current record status per step: ``batch`` for batch-scope steps, ``nominations[id]`` per person."""

    batch: dict[str, str] = field(default_factory=dict)
    nominations: dict[int, dict[str, str]] = field(default_factory=dict)
    active: frozenset[int] = frozenset()


def _done_for(definition: ProcedureDefinition, state: BatchState, step_id: str, nomination: int | None) -> bool:
    step = definition.step(step_id)
    if step.scope == Scope.BATCH:
        return state.batch.get(step_id) in DONE_STATES
    if nomination is not None:
        return state.nominations.get(nomination, {}).get(step_id) in DONE_STATES
    if not state.active:
        return False
    return all(state.nominations.get(n, {}).get(step_id) in DONE_STATES for n in state.active)


def unmet_prerequisites(
    definition: ProcedureDefinition, state: BatchState, step_id: str, nomination: int | None
) -> list[str]:
    """Prerequisite step ids not yet done for this (step, nomination)."""
    return [
        pre
        for pre in definition.prerequisites_of(step_id)
        if not _done_for(
            definition, state, pre, nomination if definition.step(step_id).scope == Scope.NOMINATION else None
        )
    ]


def cell_state(definition: ProcedureDefinition, state: BatchState, step_id: str, nomination: int | None) -> Cell:
    step = definition.step(step_id)
    if step.scope == Scope.NOMINATION and nomination is not None and nomination not in state.active:
        current = state.nominations.get(nomination, {}).get(step_id)
        if current in DONE_STATES:
            return Cell.WAIVED if current == "waived" else Cell.DONE
        return Cell.DROPPED
    current = (
        state.batch.get(step_id)
        if step.scope == Scope.BATCH
        else state.nominations.get(nomination or 0, {}).get(step_id)
    )
    if current == "completed":
        return Cell.DONE
    if current == "waived":
        return Cell.WAIVED
    if current == "in_progress":
        return Cell.IN_PROGRESS
    if unmet_prerequisites(definition, state, step_id, nomination):
        return Cell.LOCKED
    if step.scope == Scope.NOMINATION and nomination is None:
        return Cell.LOCKED
    return Cell.AVAILABLE


def available_steps(definition: ProcedureDefinition, state: BatchState) -> list[tuple[str, int | None]]:
    """Every (step id, nomination id or None) that may be started now."""
    result: list[tuple[str, int | None]] = []
    for step in definition.steps():
        targets: list[int | None] = [None] if step.scope == Scope.BATCH else [*sorted(state.active)]
        for target in targets:
            if cell_state(definition, state, step.id, target) == Cell.AVAILABLE:
                result.append((step.id, target))
    return result


def is_finished(definition: ProcedureDefinition, state: BatchState) -> bool:
    """Every step done for the batch and for every active nomination."""
    if not state.active:
        return False
    return all(_done_for(definition, state, step.id, None) for step in definition.steps())


FINISHED_STAGE = "已完成"


def current_stage(definition: ProcedureDefinition, state: BatchState) -> str:
    """Name of the first stage with a step not yet done, or 已完成."""
    for stage in definition.stages:
        if not all(_done_for(definition, state, step.id, None) for step in stage.steps):
            return stage.name
    return FINISHED_STAGE
