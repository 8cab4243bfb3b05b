"""Bugs the workflow state machine (tests/test_workflow_stateful.py) found, each as a small regression test.

They are marked ``xfail(strict=True)`` until the service is fixed; the fix turns them into ordinary tests
(remove the mark).
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

from jishi.core.exceptions import ApplicationError
from jishi.core.testing import SIGNING_PIN, World
from jishi.selection import services
from jishi.selection.models import Batch, Nomination
from jishi.selection.selectors import batch_state
from jishi.selection.transitions import DONE_STATES, unmet_prerequisites
from jishi.selection.walk import sample_values, walk


def test_a_person_added_while_a_waiting_batch_step_is_open_does_not_let_it_complete_out_of_order(
    world: World, batch: Batch
) -> None:
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D08")
    definition = batch.procedure.definition
    record = services.step_start(actor=world.alice, batch=batch, step_id="D08")  # waits on everyone's D07
    added: Nomination | None = None
    with contextlib.suppress(ApplicationError):  # one acceptable fix: nobody joins while it is open
        added = services.nomination_add(
            actor=world.alice, batch=batch, cadre=world.cadres[3], position=world.positions[1]
        )
    completed = True
    try:  # fill in, sign and complete the open D08 as the walk would
        step = definition.step("D08")
        services.step_save(actor=world.alice, record=record, data=sample_values(step, batch.created_at.date()))
        for item in definition.items_of("D08"):
            services.notebook_entry_add(
                actor=world.alice,
                record=record,
                item_id=item.id,
                kind="talk",
                occurred_at=timezone.now() - dt.timedelta(hours=1),
                place="组织部会议室",
                participants="王建国 等",
                content="小范围酝酿，意见一致。",
            )
        for role in step.signer_roles:
            services.step_confirm(actor=world.signers()[role], record=record, role=role, pin=SIGNING_PIN)
        services.step_complete(actor=world.alice, record=record)
    except ApplicationError:
        completed = False  # the other acceptable fix: completion checks the prerequisites again
    state = batch_state(batch)
    unmet = unmet_prerequisites(definition, state, "D08", None)
    assert not (added is not None and completed), f"D08 completed although {added} has not done {unmet}"
    assert state.batch.get("D08") not in DONE_STATES or not unmet
