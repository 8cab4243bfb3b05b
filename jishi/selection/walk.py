"""Take a batch through its steps with plausible values — used by the demo seed and the end-to-end test.

It calls the same services a clerk's clicks call, so everything it does is checked and put on the
ledger exactly as real work would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from jishi.accounts.models import User
from jishi.procedures.schema import FieldType, ItemKind, Step

from . import services, transitions
from .models import Batch, Nomination, StepRecord
from .selectors import batch_state
from .step_input import TallyInput


def sample_values(step: Step, base: dt.date) -> dict[str, str]:
    """Values that satisfy the step's field types and rules; dates advance three weeks per field."""
    values: dict[str, str] = {}
    offset = 0
    for f in step.fields:
        if f.type == FieldType.DATE:
            values[f.id] = (base + dt.timedelta(days=offset)).isoformat()
            offset += 21
        elif f.type == FieldType.DATETIME:
            values[f.id] = f"{(base + dt.timedelta(days=offset)).isoformat()}T09:30"
            offset += 21
        elif f.type == FieldType.INTEGER:
            values[f.id] = "3"
        elif f.type == FieldType.CHOICE:
            values[f.id] = f.choices[0]
        elif f.type == FieldType.BOOLEAN:
            values[f.id] = "是"
        else:
            values[f.id] = f"{f.label}：按规定办理，情况属实。"
    for rule in step.rules:
        if rule.code == "quorum" and "due_field" in rule.params:
            values[rule.params["due_field"]], values[rule.params["present_field"]] = "9", "8"
        if rule.code == "min_value":
            values[rule.params["field"]] = str(max(int(rule.params["min"]), 3))
    return values


def _notebook_kind(item_name: str) -> str:
    for word, kind in (("谈话", "talk"), ("会议", "meeting"), ("征求", "soliciting"), ("方案", "proposal")):
        if word in item_name:
            return kind
    return "hearing"


def walk_step(
    *,
    batch: Batch,
    step_id: str,
    nomination: Nomination | None,
    actor: User,
    signers: dict[str, User],
    pin: str,
    base: dt.date | None = None,
) -> StepRecord:
    definition = batch.procedure.definition
    step = definition.step(step_id)
    base = base or (timezone.localdate() - dt.timedelta(days=120))
    record = services.step_start(actor=actor, batch=batch, step_id=step_id, nomination=nomination)
    if step.fields:
        record = services.step_save(actor=actor, record=record, data=sample_values(step, base))
    if step.tally:
        candidates = services.tally_candidates(record)
        services.tally_save(
            actor=actor,
            record=record,
            tally=TallyInput(due=9, present=8, valid_ballots=8, lines={n.pk: (7, 1, 0, 0) for n in candidates}),
        )
    for item in definition.items_of(step_id):
        if item.kind == ItemKind.MATERIAL:
            services.material_register(actor=actor, record=record, item_id=item.id, title=item.name, pages=2)
        elif item.kind == ItemKind.NOTEBOOK:
            services.notebook_entry_add(
                actor=actor,
                record=record,
                item_id=item.id,
                kind=_notebook_kind(item.name),
                occurred_at=timezone.now() - dt.timedelta(hours=1),
                place="组织部会议室",
                participants=f"{actor.get_full_name()} 等",
                content=f"{item.name}：按规定听取、记录，内容属实。",
            )
    record.refresh_from_db()
    for role in step.signer_roles:
        services.step_confirm(actor=signers[role], record=record, role=role, pin=pin)
    return services.step_complete(actor=actor, record=record)


def walk(
    *,
    batch: Batch,
    actor: User,
    signers: dict[str, User],
    pin: str,
    stop: Callable[[str, Nomination | None], bool] = lambda step_id, nomination: False,
) -> int:
    """Complete every available step, in procedure order, until none is left or ``stop`` says so."""
    definition = batch.procedure.definition
    order = {s.id: i for i, s in enumerate(definition.steps())}
    done = 0
    while True:
        available = transitions.available_steps(definition, batch_state(batch))
        noms = {n.pk: n for n in batch.nominations.all()}
        candidates = [(s, noms[n] if n else None) for s, n in available]
        pending = sorted(
            ((s, n) for s, n in candidates if not stop(s, n)), key=lambda t: (order[t[0]], t[1].pk if t[1] else 0)
        )
        if not pending:
            return done
        step_id, nomination = pending[0]
        walk_step(batch=batch, step_id=step_id, nomination=nomination, actor=actor, signers=signers, pin=pin)
        done += 1
