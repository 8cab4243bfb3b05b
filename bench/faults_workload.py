"""The writer of the fault runs: real service calls, each acknowledged only after its transaction committed.

Every call is one of the selection services a clerk's clicks reach (``step_start``, ``step_save``,
``notebook_entry_add``, ``material_register``, ``tally_save``, signed ``step_confirm``, ``step_complete``,
``batch_create``, ``nomination_add``). The writer keeps no state of its own: each operation reads what to do
next from the database, so a writer restarted after ``kill -9`` (or reconnected after PostgreSQL crashed)
simply carries on. About nine cheap writes (save / notebook entry) are made on a step record before it is
finished with its required items, one signed confirmation per signer role and the completion — roughly one
signed write in ten. Batches are walked through 动议 and 民主推荐 (D01–T07); then a new batch is opened.

Acknowledgements go to an append-only file, one JSON line each, fsync'd before the next operation starts:
``{"ack": n, "op": ..., "events": [[fonds, seq, hash, action, subject_id], ...], "rows": [[model, pk, cond]]}``.
``events`` are the ledger events whose transaction committed during the call (captured by an ``on_commit``
hook, so a rolled-back append never appears). ``intent`` lines precede each call; ``error`` lines record what
the process saw when a call failed (PostgreSQL down, …).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable
from typing import Any

# Django must be set up by the caller before this module is imported.
from django.db import connections, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from jishi.accounts.models import OrgUnit, User
from jishi.cadres.models import Cadre, Position
from jishi.core.exceptions import ApplicationError
from jishi.ledger.models import Event
from jishi.procedures.schema import ItemKind
from jishi.selection import services, transitions
from jishi.selection.models import Batch, Nomination, RecordStatus, StepRecord
from jishi.selection.selectors import batch_state
from jishi.selection.step_input import TallyInput, missing_required
from jishi.selection.walk import _notebook_kind, sample_values

FONDS = "J001"  # 内江市委组织部 of jishi.core.testing.build_world
PIN = "739146"  # jishi.core.testing.SIGNING_PIN
CLERK = "alice"
SIGNER_BY_ROLE = {
    "clerk": "alice",
    "section_head": "bob",
    "dept_leader": "carol",
    "discipline": "dave",
    "supervision": "erin",
    "archivist": "frank",
}
CHEAP_WRITES = 9  # revisions a record gets from saves and notebook entries before it is finished
LAST_STEP = "T07"  # walk 动议 and 民主推荐, then open a new batch (考察 onwards needs drops and waivers)
NOMINATIONS_PER_BATCH = 2

Ack = dict[str, Any]


class Captured:
    """Ledger events committed since the last ``take()``; filled from ``on_commit``, so never a rolled-back one."""

    def __init__(self) -> None:
        self.events: list[list[Any]] = []
        post_save.connect(self._saved, sender=Event, weak=False)

    def _saved(self, sender: type[Event], instance: Event, created: bool, **kwargs: Any) -> None:
        if created:
            row = [instance.chain.fonds, instance.seq, instance.hash, instance.action, instance.subject_id]
            transaction.on_commit(lambda: self.events.append(row))

    def take(self) -> list[list[Any]]:
        events, self.events = self.events, []
        return events


def prepare(batches: int = 2) -> dict[str, Any]:
    """The small world every fault run starts from (run once per run, into the template database)."""
    from jishi.core.testing import build_world

    world = build_world()
    for _ in range(batches):
        _open_batch(world.alice)
    return {"users": len(world.users), "batches": Batch.objects.count()}


def _open_batch(clerk: User) -> Batch:
    city = OrgUnit.objects.get(code=FONDS)
    positions = list(Position.objects.filter(org_unit=city).order_by("id")[:1])
    return services.batch_create(
        actor=clerk,
        org_unit=city,
        title=f"故障演练批次{Batch.objects.count() + 1}",
        positions=positions,
        reason="故障注入基准：验证写入在进程被杀或数据库宕机时不丢失、不残缺。",
    )


class Writer:
    """Chooses and performs the next write from the database state; returns what to acknowledge."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.users = {u.username: u for u in User.objects.filter(username__in=set(SIGNER_BY_ROLE.values()))}
        self.clerk = self.users[CLERK]

    def step(self) -> tuple[str, list[list[Any]]]:
        """(operation, rows to check) — rows are [model, pk, {field lookups that must hold}]."""
        batch = Batch.objects.select_related("procedure", "org_unit").order_by("-id").first()
        if batch is None:
            batch = _open_batch(self.clerk)
            return "batch.create", [["selection.Batch", batch.pk, {}]]
        definition = batch.procedure.definition
        active = list(batch.nominations.filter(status="active").order_by("id"))
        record = (
            StepRecord.objects.filter(batch=batch, status=RecordStatus.IN_PROGRESS)
            .select_related("batch__org_unit", "batch__procedure", "nomination")
            .order_by("id")
            .first()
        )
        if record is not None:
            return self._work_on(record)
        if len(active) < NOMINATIONS_PER_BATCH and not batch.records.exists():
            used = {n.cadre_id for n in active}
            cadre = Cadre.objects.filter(org_unit=batch.org_unit).exclude(pk__in=used).order_by("?").first()
            position = batch.positions.order_by("id").first()
            assert cadre is not None and position is not None
            nomination = services.nomination_add(actor=self.clerk, batch=batch, cadre=cadre, position=position)
            return "nomination.add", [["selection.Nomination", nomination.pk, {}]]
        order = {s.id: i for i, s in enumerate(definition.steps())}
        available = [
            (s, n)
            for s, n in transitions.available_steps(definition, batch_state(batch))
            if order[s] <= order[LAST_STEP]
        ]
        if not available:
            batch = _open_batch(self.clerk)
            return "batch.create", [["selection.Batch", batch.pk, {}]]
        step_id, nomination_id = min(available, key=lambda t: (order[t[0]], t[1] or 0))
        nomination = Nomination.objects.get(pk=nomination_id) if nomination_id else None
        record = services.step_start(actor=self.clerk, batch=batch, step_id=step_id, nomination=nomination)
        return "step.start", [["selection.StepRecord", record.pk, {}]]

    def _work_on(self, record: StepRecord) -> tuple[str, list[list[Any]]]:
        definition = record.batch.procedure.definition
        step = definition.step(record.step_id)
        base = timezone.localdate() - dt.timedelta(days=120)
        if record.revision < CHEAP_WRITES:
            if step.fields and (record.revision % 2 == 0 or missing_required(step, record.data)):
                return self._save(record, sample_values(step, base))
            return self._note(record, "", "talk")
        if step.fields and missing_required(step, record.data):
            return self._save(record, sample_values(step, base))
        if step.tally and getattr(record, "tally", None) is None:
            candidates = services.tally_candidates(record)
            tally = services.tally_save(
                actor=self.clerk,
                record=record,
                tally=TallyInput(due=9, present=8, valid_ballots=8, lines={n.pk: (7, 1, 0, 0) for n in candidates}),
            )
            return "tally.save", [["selection.VoteTally", tally.pk, {}], _revision(record, 1)]
        for item in definition.items_of(record.step_id):
            if item.kind == ItemKind.MATERIAL and not record.materials.filter(item_id=item.id).exists():
                material = services.material_register(
                    actor=self.clerk, record=record, item_id=item.id, title=item.name, pages=2
                )
                return "material.register", [["selection.Material", material.pk, {}], _revision(record, 1)]
            if item.kind == ItemKind.NOTEBOOK and not record.notebook.filter(item_id=item.id).exists():
                return self._note(record, item.id, _notebook_kind(item.name))
        confirmed = set(record.confirmations.filter(revision=record.revision).values_list("role", flat=True))
        for role in step.signer_roles:
            if role not in confirmed:
                c = services.step_confirm(actor=self.users[SIGNER_BY_ROLE[role]], record=record, role=role, pin=PIN)
                return "step.confirm", [["selection.Confirmation", c.pk, {"event_hash": c.event_hash}]]
        services.step_complete(actor=self.clerk, record=record)
        return "step.complete", [["selection.StepRecord", record.pk, {"status": RecordStatus.COMPLETED}]]

    def _save(self, record: StepRecord, values: dict[str, str]) -> tuple[str, list[list[Any]]]:
        saved = services.step_save(actor=self.clerk, record=record, data=values)
        return "step.save", [["selection.StepRecord", saved.pk, {"revision__gte": saved.revision}]]

    def _note(self, record: StepRecord, item_id: str, kind: str) -> tuple[str, list[list[Any]]]:
        entry = services.notebook_entry_add(
            actor=self.clerk,
            record=record,
            item_id=item_id,
            kind=kind,
            occurred_at=timezone.now() - dt.timedelta(minutes=self.rng.randrange(30, 600)),
            place=self.rng.choice(["组织部会议室", "干部一科办公室", "市财政局三楼会议室"]),
            participants=f"{self.clerk.get_full_name()}、王建国等{self.rng.randrange(2, 9)}人",
            content=f"个别谈话第{self.rng.randrange(1, 40)}人次：按规定听取意见、如实记录，内容属实。",
        )
        return "notebook.add", [["selection.NotebookEntry", entry.pk, {}], _revision(record, 1)]


def _revision(record: StepRecord, bump: int) -> list[Any]:
    return ["selection.StepRecord", record.pk, {"revision__gte": record.revision + bump}]


class AckFile:
    """Append-only JSON lines; every line is fsync'd before the call returns (O_APPEND: no torn interleaving)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, data: dict[str, Any], *, sync: bool = True) -> None:
        os.write(self.fd, (json.dumps(data, ensure_ascii=False) + "\n").encode())
        if sync:
            os.fsync(self.fd)


RACE_REFUSALS = frozenset({"already_confirmed", "same_person", "stale", "record_closed"})


def run(
    ack_path: str,
    *,
    first_op: int,
    seed: int,
    max_ops: int = 0,
    ready: Callable[[], None] = lambda: None,
    reconnect: bool = False,
) -> int:
    """Write until killed (or ``max_ops``). With ``reconnect`` a database error is recorded and retried."""
    acks = AckFile(ack_path)
    captured = Captured()
    rng = random.Random(seed)
    writer: Writer | None = None
    n = first_op
    ready()
    while not max_ops or n < first_op + max_ops:
        acks.write({"intent": n, "t": time.time()}, sync=False)  # only acks must survive
        try:
            if writer is None:
                writer = Writer(rng)
            captured.take()
            op, rows = writer.step()
        except ApplicationError as exc:
            if exc.code not in RACE_REFUSALS:
                # Any other refusal by the rules is a bug of this workload, not a fault result: stop loudly.
                acks.write({"error": n, "type": "ApplicationError", "code": exc.code, "msg": str(exc)[:300]})
                raise
            # A killed predecessor's commit can land after this writer read the state (PostgreSQL finishes a
            # COMMIT whose client died): the service refuses the now-duplicate act and writes nothing.
            acks.write({"refused": n, "code": exc.code, "t": time.time()})
            captured.take()
            n += 1
            continue
        except Exception as exc:
            acks.write({"error": n, "type": type(exc).__name__, "msg": str(exc).strip()[:200], "t": time.time()})
            if not reconnect:
                raise
            captured.take()
            connections.close_all()  # a broken connection is never reused
            time.sleep(0.05)
            n += 1
            continue
        acks.write({"ack": n, "op": op, "events": captured.take(), "rows": rows, "t": time.time()})
        n += 1
    return n
