"""Batches the tests share: the ``batch`` fixture's batch, and walks made once per process and replayed after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jishi.core.testing import World
from jishi.selection.models import Batch
from jishi.selection.services import batch_create, nomination_add
from tests.replay import changes, replay, rows_by_pk


def make_batch(world: World) -> Batch:
    """The ``batch`` fixture's batch."""
    b = batch_create(
        actor=world.alice,
        org_unit=world.city,
        title="2026年第三批市管干部调整",
        positions=world.positions,
        reason="职位空缺",
    )
    for cadre, position in zip(
        world.cadres[:3], [world.positions[0], world.positions[0], world.positions[1]], strict=True
    ):
        nomination_add(actor=world.alice, batch=b, cadre=cadre, position=position)
    return b


_WALKED: dict[str, dict[str, Any]] = {}


def walked_once(key: str, build: Callable[[], Batch]) -> Batch:
    """The batch ``build`` makes, built through the services once per process and replayed (same rows) after.

    Walking a batch through its 44 signed steps takes many seconds; tests that need one share the walk.
    """
    if key in _WALKED:
        kept = _WALKED[key]
        replay(kept["added"], kept["changed"])
        return Batch.objects.get(pk=kept["batch"])
    before = rows_by_pk()
    built = build()
    added, changed = changes(before)
    _WALKED[key] = {"added": added, "changed": changed, "batch": built.pk}
    return built


def finished_with_y04_waived(world: World) -> Batch:
    """The ``batch`` fixture's batch walked to the end, 备案 (Y04) waived for all three by 部领导 carol."""
    from jishi.core.testing import SIGNING_PIN
    from jishi.selection.services import step_waive
    from jishi.selection.walk import walk

    def build() -> Batch:
        b = make_batch(world)
        walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "Y04")
        for nomination in b.nominations.all():
            step_waive(
                actor=world.carol,
                batch=b,
                step_id="Y04",
                nomination=nomination,
                reason="不属于双重管理干部",
                legal_basis="《条例》第三十四条",
                pin=SIGNING_PIN,
            )
        walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
        return b

    return walked_once("finished, Y04 waived", build)
