"""What a fault run checks after a crash — run with Django set up against the database the writer used.

(a) **Nothing acknowledged is lost**: every ledger event named in an ``ack`` line exists with that fonds, seq
    and hash, and every row it names exists and satisfies the recorded condition (revision at least …, status
    completed, confirmation bound to that event hash).
(b) **No partial records** — each workflow row and the ledger event of the transaction that made it exist
    together or not at all:
    - ``Batch`` ↔ ``batch.create``; ``Nomination`` ↔ ``nomination.add``; ``StepRecord`` ↔ ``step.start``
      (subject ids equal as sets, one event per row);
    - ``NotebookEntry`` ↔ ``notebook.add`` (payload ``entry``); ``Material`` ↔ ``material.register``
      (payload ``material``); ``VoteTally`` ↔ ``tally.save`` (subject record);
    - ``Confirmation`` ↔ ``step.confirm`` (``event_hash`` = event hash), and each such event carries the
      personal signature of its role;
    - per ``StepRecord``: ``revision`` = number of its revision-making events (save, tally, notebook entry,
      material); ``data`` = the ``data`` of its last ``step.save`` event; status completed ⇔ exactly one
      ``step.complete`` event, else none.
(c) ``chain_verify`` of every chain (hashes, links, head, system and personal signatures, checkpoints).
(d) SQLite only: ``PRAGMA integrity_check`` returns ``ok``.

Also counted: events committed but never acknowledged (the writer died, or the connection broke, between the
commit and the fsync of its ack — allowed, reported).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection

from jishi.ledger import selectors
from jishi.ledger.models import Chain, Event, Signature
from jishi.selection.models import (
    Batch,
    Confirmation,
    Material,
    Nomination,
    NotebookEntry,
    RecordStatus,
    StepRecord,
    VoteTally,
)

REVISION_EVENTS = ("step.save", "tally.save", "notebook.add", "material.register")
WATCHED = ("batch.create", "nomination.add", "step.start", "step.confirm", "step.complete", *REVISION_EVENTS)
MAX_PROBLEMS = 20


@dataclass
class AckLog:
    acks: list[dict[str, Any]] = field(default_factory=list)
    intents: set[int] = field(default_factory=set)
    errors: list[dict[str, Any]] = field(default_factory=list)
    torn_lines: int = 0


def read_acks(path: Path) -> AckLog:
    log = AckLog()
    if not path.exists():
        return log
    for line in path.read_bytes().splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            log.torn_lines += 1  # a line the writer did not finish: never counted as acknowledged
            continue
        if "ack" in item:
            log.acks.append(item)
        elif "intent" in item:
            log.intents.add(item["intent"])
        elif "error" in item:
            log.errors.append(item)
    return log


@dataclass
class Report:
    acknowledged: int = 0
    acknowledged_events: int = 0
    lost: int = 0
    partial: int = 0
    chain_failures: int = 0
    integrity: str = "n/a"
    events_total: int = 0
    unacknowledged_committed_events: int = 0
    unacknowledged_by_action: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        if kind == "lost":
            self.lost += 1
        elif kind == "partial":
            self.partial += 1
        else:
            self.chain_failures += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{kind}: {text}")

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.partial == 0 and self.chain_failures == 0 and self.integrity in ("ok", "n/a")


def _holds(row: dict[str, Any], cond: dict[str, Any]) -> bool:
    for key, want in cond.items():
        if key.endswith("__gte"):
            if row[key[:-5]] < want:
                return False
        elif row[key] != want:
            return False
    return True


def check(ack_path: Path, *, baseline_event_id: int) -> Report:
    """(a)–(d) over the whole database; ``baseline_event_id``: last event before the writer first ran."""
    report = Report()
    log = read_acks(ack_path)  # read before the database: every ack here was committed before we look
    events = list(
        Event.objects.select_related("chain").values_list(
            "id", "chain__fonds", "seq", "hash", "action", "subject_type", "subject_id", "payload"
        )
    )
    report.events_total = len(events)
    by_key = {(fonds, seq): h for _, fonds, seq, h, *_ in events}

    # (a) acknowledged writes
    acked_hashes: set[str] = set()
    wanted_rows: dict[str, list[tuple[int, dict[str, Any], int]]] = defaultdict(list)
    for ack in log.acks:
        report.acknowledged += 1
        for fonds, seq, h, action, _subject in ack["events"]:
            report.acknowledged_events += 1
            acked_hashes.add(h)
            if by_key.get((fonds, seq)) != h:
                report.problem("lost", f"ack {ack['ack']} {action}: event {fonds}#{seq} {h[:12]} missing")
        for label, pk, cond in ack["rows"]:
            wanted_rows[label].append((pk, cond, ack["ack"]))
    for label, wanted in wanted_rows.items():
        rows = {r["id"]: r for r in apps.get_model(label).objects.values()}
        for pk, cond, n in wanted:
            if pk not in rows or not _holds(rows[pk], cond):
                report.problem("lost", f"ack {n}: {label} {pk} {cond} not found")
    unacked = Counter(a for i, _, _, h, a, *_ in events if i > baseline_event_id and h not in acked_hashes)
    report.unacknowledged_committed_events = sum(unacked.values())
    report.unacknowledged_by_action = dict(unacked)

    # (b) rows and their events, both ways
    watched: dict[str, list[tuple[str, dict[str, Any], str]]] = defaultdict(list)
    event_ids: dict[str, int] = {}
    for eid, _f, _s, h, action, _st, subject_id, payload in events:
        if action in WATCHED:
            watched[action].append((subject_id, json.loads(payload), h))
            event_ids[h] = eid

    def same(name: str, rows: Counter[str], logged: Counter[str]) -> None:
        for key in rows.keys() | logged.keys():
            if rows[key] != 1 or logged[key] != 1:
                report.problem("partial", f"{name} {key}: {rows[key]} row(s), {logged[key]} event(s)")

    def subjects(action: str) -> Counter[str]:
        return Counter(s for s, _, _ in watched[action])

    same("batch", Counter(str(pk) for pk in Batch.objects.values_list("pk", flat=True)), subjects("batch.create"))
    same(
        "nomination",
        Counter(str(pk) for pk in Nomination.objects.values_list("pk", flat=True)),
        subjects("nomination.add"),
    )
    same(
        "step record",
        Counter(str(pk) for pk in StepRecord.objects.values_list("pk", flat=True)),
        subjects("step.start"),
    )
    same(
        "notebook entry",
        Counter(str(pk) for pk in NotebookEntry.objects.values_list("pk", flat=True)),
        Counter(str(p["entry"]) for _, p, _ in watched["notebook.add"]),
    )
    same(
        "material",
        Counter(str(pk) for pk in Material.objects.values_list("pk", flat=True)),
        Counter(str(p["material"]) for _, p, _ in watched["material.register"]),
    )
    same(
        "tally",
        Counter(str(r) for r in VoteTally.objects.values_list("record_id", flat=True)),
        Counter(set(subjects("tally.save"))),  # saving a tally again updates the row: one row, ≥ 1 event
    )
    same(
        "confirmation",
        Counter(Confirmation.objects.values_list("event_hash", flat=True)),
        Counter(h for _, _, h in watched["step.confirm"]),
    )
    signed = set(
        Signature.objects.filter(event_id__in=[event_ids[h] for _, _, h in watched["step.confirm"]])
        .exclude(role="system")
        .values_list("event__hash", "role")
    )
    for _, payload, h in watched["step.confirm"]:
        if (h, payload["role"]) not in signed:
            report.problem("partial", f"step.confirm {h[:12]} has no {payload['role']} signature")

    bumps: Counter[str] = Counter()
    last_data: dict[str, Any] = {}
    for action in REVISION_EVENTS:
        for subject, _payload, _ in watched[action]:
            bumps[subject] += 1
    for subject, payload, _ in sorted(watched["step.save"], key=lambda t: t[1]["revision"]):
        last_data[subject] = payload["data"]
    completes = subjects("step.complete")
    for pk, revision, status, data in StepRecord.objects.values_list("pk", "revision", "status", "data"):
        key = str(pk)
        if revision != bumps[key]:
            report.problem("partial", f"step record {pk}: revision {revision}, {bumps[key]} revision events")
        if data != last_data.get(key, {}):
            report.problem("partial", f"step record {pk}: data differs from its last step.save event")
        if completes[key] != (1 if status == RecordStatus.COMPLETED else 0):
            report.problem("partial", f"step record {pk}: status {status}, {completes[key]} step.complete events")

    # (c) every chain verifies
    keys = selectors.registry()
    for chain in Chain.objects.order_by("fonds"):
        broken = selectors.chain_verify(chain, keys=keys, check_files=False)
        if broken is not None:
            report.problem("chain", f"{chain.fonds}: {broken}")

    # (d) the SQLite file itself
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            report.integrity = "; ".join(str(r[0]) for r in cursor.fetchall())
        if report.integrity != "ok":
            report.problems.append(f"integrity_check: {report.integrity[:200]}")
    return report
