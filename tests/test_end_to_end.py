"""A batch of 2 positions and 3 nominations through all 44 steps, through the services only;
one nomination is dropped during 考察."""

from __future__ import annotations

from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Chain, Event
from jishi.ledger.selectors import chain_verify
from jishi.selection import selectors
from jishi.selection.models import Batch, RecordStatus
from jishi.selection.services import nomination_drop, step_waive
from jishi.selection.walk import walk


def test_a_batch_goes_from_motion_to_appointment_with_one_person_dropped_during_inspection(world: World, batch: Batch):
    definition = batch.procedure.definition
    signers = world.signers()
    dropped, kept_a, kept_b = batch.nominations.order_by("-id")[0], *batch.nominations.order_by("id")[:2]

    walk(batch=batch, actor=world.alice, signers=signers, pin=SIGNING_PIN, stop=lambda s, n: s == "K07")
    assert selectors.batch_summary(batch)["stage"] == "考察"
    nomination_drop(actor=world.bob, nomination=dropped, reason="考察中反映问题经核实，不宜提拔")

    # 杨帆's own 考察 step is now closed to everyone; the other two go on.
    walk(batch=batch, actor=world.alice, signers=signers, pin=SIGNING_PIN, stop=lambda s, n: s == "Y04")
    for nomination in (kept_a, kept_b):  # neither is dual-managed: 协管方意见 does not apply
        step_waive(
            pin=SIGNING_PIN,
            actor=world.carol,
            batch=batch,
            step_id="Y04",
            nomination=nomination,
            reason="该同志不属于双重管理干部",
            legal_basis="2014《条例》第三十四条",
        )
    walk(batch=batch, actor=world.alice, signers=signers, pin=SIGNING_PIN)

    state = selectors.batch_state(batch)
    steps = definition.steps()
    assert len(steps) == 44
    assert selectors.batch_summary(batch) == {"stage": "已完成", "finished": True, "active": 2, "total": 3}
    batch_steps = [s.id for s in steps if s.scope == "batch"]
    own_steps = [s.id for s in steps if s.scope == "nomination"]
    assert all(state.batch[s] == RecordStatus.COMPLETED for s in batch_steps)
    for nomination in (kept_a, kept_b):
        statuses = state.nominations[nomination.pk]
        assert set(statuses) == set(own_steps)
        assert statuses["Y04"] == RecordStatus.WAIVED
        assert all(v == RecordStatus.COMPLETED for k, v in statuses.items() if k != "Y04")
    dropped_steps = set(state.nominations.get(dropped.pk, {}))
    assert "K07" not in dropped_steps and {"K04", "K05", "K06"} <= dropped_steps
    assert not dropped_steps & {s.id for stage in definition.stages[3:] for s in stage.steps}

    # Every act left one event in the city's chain, and the chain verifies end to end.
    chain = Chain.objects.get(fonds="J001")
    assert chain_verify(chain) is None
    completes = Event.objects.filter(chain=chain, action="step.complete").count()
    assert completes == len(batch_steps) + 2 * (len(own_steps) - 1) + len(state.nominations[dropped.pk])
    assert Event.objects.filter(chain=chain, action="step.waive").count() == 2
    assert Event.objects.filter(chain=chain, action="nomination.drop").count() == 1
    # The timeline of a kept person shows all 44 steps, the waiver among them.
    timeline = selectors.timeline(kept_a)
    assert len(timeline) == 44
    assert next(e for e in timeline if e["step"].id == "Y04")["state"] == "waived"
