"""A seeded dataset for the query-discipline test: rows enough that a planner prefers an index when one exists.

The rows are shaped like the real ones (real step ids, rule codes, units with parents) but do not form valid hash
chains or signed records: EXPLAIN and query counts do not care, and bulk_create keeps the seeding to seconds.

The province is modelled by ``UNITS`` fonds; the city J001 of the test world sees itself and its two counties
(J002 from the world, J003 made here), so the pages read about a tenth of each table, as a city would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Max
from django.utils import timezone

from jishi.accounts.models import OrgUnit, User
from jishi.accounts.services import org_unit_create
from jishi.audit.models import AuditRecord
from jishi.cadres.models import Cadre, Position
from jishi.core.testing import World, cadre_data
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.procedures.models import ProcedureVersion
from jishi.procedures.schema import Scope
from jishi.selection.models import Batch, Material, Nomination, RecordStatus, StepRecord
from jishi.supervision.models import EarlyWarning, Notification, WarningStatus
from jishi.supervision.rules import REGISTRY

UNITS = 24  # fonds in the seeded province (the world's two included)
CHUNK = 2000

# Tables the pages must reach through an index: each holds thousands of rows here and millions in a province.
LARGE_TABLES = frozenset(
    {
        "cadres_cadre",
        "selection_nomination",
        "selection_steprecord",
        "selection_material",
        "ledger_event",
        "supervision_earlywarning",
        "supervision_notification",
        "audit_auditrecord",
    }
)


@dataclass(frozen=True)
class Size:
    batches_per_unit: int
    cadres_per_unit: int
    nominations_per_batch: int = 4
    events_per_batch: int = 100
    audit_per_batch: int = 30


SMALL = Size(batches_per_unit=9, cadres_per_unit=40)
LARGE = Size(batches_per_unit=18, cadres_per_unit=150)


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk(model: type[Any], rows: list[Any]) -> list[Any]:
    made: list[Any] = []
    for chunk in _chunks(rows):
        made.extend(model._base_manager.bulk_create(chunk))
    return made


def _hex(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def province_units(world: World) -> list[OrgUnit]:
    """The world's city and county, a second county of the city, and other cities with their counties."""
    units = [world.city, world.county]
    units.append(org_unit_create(actor=None, code="J003", name="中共资中县委组织部", parent=world.city))
    parent: OrgUnit | None = None
    for index in range(4, UNITS + 1):
        code = f"J{index:03d}"
        unit = org_unit_create(
            actor=None, code=code, name=f"中共第{index}组织部", parent=None if index % 6 == 4 else parent
        )
        if index % 6 == 4:
            parent = unit
        units.append(unit)
    return units


class Seeder:
    """Adds rows in rounds; ``grow(size)`` brings every unit up to ``size`` (call with a bigger size to grow)."""

    def __init__(self, world: World, units: list[OrgUnit]) -> None:
        self.world = world
        self.units = units
        self.rng = random.Random(9)
        self.procedure = ProcedureVersion.objects.order_by("-pk").first()
        assert self.procedure is not None
        definition = self.procedure.definition
        self.batch_steps = [s.id for s in definition.steps() if s.scope == Scope.BATCH]
        self.nomination_steps = [s.id for s in definition.steps() if s.scope == Scope.NOMINATION]
        self.items = {s.id: [i.id for i in definition.items_of(s.id)] or ["X"] for s in definition.steps()}
        self.clerks: dict[int, User] = {u.pk: world.alice for u in units}
        self.done_batches = 0
        self.done_cadres = 0
        self.serial = 0
        self.now = timezone.now()

    def grow(self, size: Size) -> None:
        start_batches, start_cadres = self.done_batches, self.done_cadres
        for unit in self.units:
            self._cadres(unit, size.cadres_per_unit - start_cadres)
        new_batches: list[Batch] = []
        for unit in self.units:
            new_batches.extend(self._batches(unit, size.batches_per_unit - start_batches))
        nominations = self._nominations(new_batches, size)
        records = self._records(new_batches, nominations)
        self._materials(records)
        self._warnings(new_batches, nominations, records)
        self._events(new_batches, nominations, records, size)
        self._audit(new_batches, size)
        self.done_batches, self.done_cadres = size.batches_per_unit, size.cadres_per_unit
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have gathered them
            cursor.execute("ANALYZE")

    # Master data ----------------------------------------------------------------------------------------

    def _cadres(self, unit: OrgUnit, count: int) -> None:
        template = cadre_data("模板")
        template.pop("name")
        template.pop("family")
        template.pop("id_number")
        dates = {
            key: dt.date(int(template[key][:4]), int(template[key][5:7]), 1)
            for key in (
                "birth_month",
                "party_join_month",
                "work_start_month",
                "current_post_since",
                "current_rank_since",
            )
        }
        template["resume"] = "\n".join(template["resume"])
        rows = []
        for _ in range(count):
            self.serial += 1
            rows.append(Cadre(**{**template, **dates}, org_unit=unit, name=f"干部{self.serial:06d}"))
        _bulk(Cadre, rows)

    def _positions(self, unit: OrgUnit) -> list[Position]:
        positions = list(Position.objects.filter(org_unit=unit)[:3])
        if positions:
            return positions
        rows = [
            Position(
                org_unit=unit, unit_name=f"{unit.code}某局", title=f"副局长{i}", rank_level="county_deputy", quota=2
            )
            for i in range(3)
        ]
        return _bulk(Position, rows)

    def _batches(self, unit: OrgUnit, count: int) -> list[Batch]:
        rows = []
        for _ in range(count):
            self.serial += 1
            rows.append(
                Batch(
                    org_unit=unit,
                    number=f"Q{self.serial:07d}",
                    title=f"第{self.serial}批调整",
                    procedure=self.procedure,
                    created_by=self.world.alice,
                    created_at=self.now - dt.timedelta(days=self.rng.randint(1, 3000)),
                )
            )
        batches = _bulk(Batch, rows)
        positions = self._positions(unit)
        through = Batch.positions.through
        _bulk(through, [through(batch_id=b.pk, position_id=p.pk) for b in batches for p in positions[:2]])
        return batches

    # Selection work --------------------------------------------------------------------------------------

    def _nominations(self, batches: list[Batch], size: Size) -> list[Nomination]:
        cadre_ids: dict[int, list[int]] = {}
        for pk, unit_id in Cadre.objects.values_list("pk", "org_unit_id"):
            cadre_ids.setdefault(unit_id, []).append(pk)
        positions = {p.org_unit_id: p for p in Position.objects.order_by("pk")}
        rows = []
        for batch in batches:
            for cadre_id in self.rng.sample(cadre_ids[batch.org_unit_id], size.nominations_per_batch):
                self.serial += 1
                rows.append(
                    Nomination(
                        batch=batch,
                        cadre_id=cadre_id,
                        position=positions[batch.org_unit_id],
                        number=f"N{self.serial:08d}",
                        added_by=self.world.alice,
                        added_at=batch.created_at,
                    )
                )
        return _bulk(Nomination, rows)

    def _record(self, batch: Batch, step_id: str, nomination: Nomination | None, status: str) -> StepRecord:
        done = status != RecordStatus.IN_PROGRESS
        alice = self.world.alice.pk
        return StepRecord(  # ids, not instances: a quarter of the cost per row
            batch_id=batch.pk,
            nomination_id=nomination.pk if nomination else None,
            step_id=step_id,
            status=status,
            data={"note": "已办理"},
            started_by_id=alice,
            started_at=batch.created_at,
            completed_by_id=alice if done else None,
            completed_at=batch.created_at + dt.timedelta(days=1) if done else None,
        )

    def _records(self, batches: list[Batch], nominations: list[Nomination]) -> list[StepRecord]:
        """A quarter of the batches finished; the rest part-way, each with one step in progress."""
        by_batch: dict[int, list[Nomination]] = {}
        for n in nominations:
            by_batch.setdefault(n.batch_id, []).append(n)
        rows = []
        done_batches = []
        for index, batch in enumerate(batches):
            finished = index % 4 == 0
            if finished:
                done_batches.append(batch.pk)  # 办结时间 as step_complete would set it
            b_done = len(self.batch_steps) if finished else self.rng.randint(1, len(self.batch_steps) - 1)
            n_done = len(self.nomination_steps) if finished else self.rng.randint(0, len(self.nomination_steps) - 1)
            for position, step_id in enumerate(self.batch_steps[:b_done]):
                last = not finished and position == b_done - 1
                rows.append(self._record(batch, step_id, None, RecordStatus.IN_PROGRESS if last else "completed"))
            for nomination in by_batch.get(batch.pk, []):
                for step_id in self.nomination_steps[:n_done]:
                    rows.append(self._record(batch, step_id, nomination, RecordStatus.COMPLETED))
        Batch.objects.filter(pk__in=done_batches).update(finished_at=F("created_at") + dt.timedelta(days=1))
        return _bulk(StepRecord, rows)

    def _materials(self, records: list[StepRecord]) -> None:
        rows = [
            Material(
                record=r,
                item_id=self.items[r.step_id][0],
                title="会议记录",
                pages=2,
                sha256=_hex("m", r.pk),
                size=1024,
                original_name="记录.pdf",
                kind="pdf",
                registered_by=self.world.alice,
                registered_at=r.started_at,
            )
            for r in records[::4]
        ]
        _bulk(Material, rows)

    def _warnings(self, batches: list[Batch], nominations: list[Nomination], records: list[StepRecord]) -> None:
        codes = list(REGISTRY)
        record_of = {r.nomination_id: r for r in records if r.nomination_id}
        batch_of = {b.pk: b for b in batches}
        rows = []
        for n in nominations[::2]:
            spec = REGISTRY[codes[n.pk % len(codes)]]
            is_open = n.pk % 3 != 0
            rows.append(
                EarlyWarning(
                    org_unit_id=batch_of[n.batch_id].org_unit_id,
                    rule_code=spec.code,
                    severity=spec.severity,
                    fingerprint=f"{spec.code}:nomination:{n.pk}",
                    batch_id=n.batch_id,
                    nomination=n,
                    record=record_of.get(n.pk),
                    step_id="",
                    message=f"{spec.title}（合成数据）",
                    basis=spec.basis,
                    due_on=(self.now + dt.timedelta(days=n.pk % 20 - 5)).date(),
                    raised_at=self.now - dt.timedelta(hours=n.pk % 500),
                    status=WarningStatus.OPEN if is_open else WarningStatus.RESOLVED,
                    closed_at=None if is_open else self.now,
                )
            )
        warnings = _bulk(EarlyWarning, rows)
        # Every warning notifies a supervisor of its unit; the city's go to carol, whose inbox the test reads.
        recipients = [self.world.carol, self.world.erin, self.world.dave]
        _bulk(
            Notification,
            [
                Notification(
                    user=recipients[w.pk % len(recipients)],
                    title=w.message[:100],
                    url=f"/supervision/warnings/{w.pk}/",
                    warning=w,
                    created_at=w.raised_at,
                    read_at=None if w.pk % 2 else self.now,
                )
                for w in warnings
            ],
        )

    # Ledger and audit ------------------------------------------------------------------------------------

    def _events(
        self, batches: list[Batch], nominations: list[Nomination], records: list[StepRecord], size: Size
    ) -> None:
        """Events about the seeded subjects, appended after each chain's head (hashes are not a valid chain)."""
        chains = {c.fonds: c for c in Chain.objects.all()}
        heads = dict(Event.objects.values("chain_id").annotate(m=Max("seq")).values_list("chain_id", "m"))
        code_of = {u.pk: u.code for u in self.units}
        subjects: list[tuple[int, str, int]] = [(b.org_unit_id, "batch", b.pk) for b in batches]
        unit_of_batch = {b.pk: b.org_unit_id for b in batches}
        subjects += [(unit_of_batch[n.batch_id], "nomination", n.pk) for n in nominations]
        subjects += [(unit_of_batch[r.batch_id], "steprecord", r.pk) for r in records]
        wanted = size.events_per_batch * len(batches)
        rows = []
        checkpoints = []
        for index in range(wanted):
            unit_id, subject_type, subject_id = subjects[index % len(subjects)]
            chain = chains[code_of[unit_id]]
            seq = heads.get(chain.pk, 0) + 1
            heads[chain.pk] = seq
            rows.append(
                Event(
                    chain=chain,
                    seq=seq,
                    prev_hash=_hex(chain.fonds, seq - 1),
                    hash=_hex(chain.fonds, seq, "q"),
                    recorded_at=self.now,
                    actor=self.world.alice,
                    actor_name="李晓红",
                    action=f"{subject_type}.update",
                    subject_type=subject_type,
                    subject_id=str(subject_id),
                    payload='{"seeded":true}',
                )
            )
            if seq % 50 == 0:
                checkpoints.append(
                    Checkpoint(
                        chain=chain,
                        tree_size=seq,
                        root=_hex("root", chain.fonds, seq),
                        timestamp=self.now.isoformat(),
                        key_id="seeded",
                        signature="0" * 128,
                    )
                )
        _bulk(Event, rows)
        _bulk(Checkpoint, checkpoints)
        # Later appends (the pages write events too) continue after the seeded ones.
        for chain in chains.values():
            if heads.get(chain.pk, 0) > chain.seq:
                Chain.objects.filter(pk=chain.pk).update(
                    seq=heads[chain.pk], head_hash=_hex(chain.fonds, heads[chain.pk], "q")
                )

    def _audit(self, batches: list[Batch], size: Size) -> None:
        users = [self.world.alice, self.world.bob, self.world.carol, self.world.erin]
        rows = [
            AuditRecord(
                at=self.now - dt.timedelta(minutes=i),
                event="page.view" if i % 5 else "login",
                user_id=users[i % len(users)].pk,
                username=users[i % len(users)].username,
                org_unit="J001",
                method="GET",
                path="/batches/",
            )
            for i in range(size.audit_per_batch * len(batches))
        ]
        _bulk(AuditRecord, rows)
