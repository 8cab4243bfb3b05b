"""Streaming chain verification: ``verify.verify_chain`` against raw hashlib chaining, and flat memory.

1. A child process generates a chain of N events (default 1,000,000; ``BENCH_EVENTS`` or ``--events``) with
   ``hashing.event_body``/``hashing.event_hash`` and ~300-byte Chinese payloads, streaming it to two temporary
   files: the event rows (one per line, tab-separated, payload as its canonical JSON) and each event's canonical
   body bytes. Generation time is therefore excluded, and none of it counts towards this process's peak RSS.
2. This process reads the rows once without verifying (the cost of feeding rows), then streams them through
   ``verify_chain`` (no registry; the Merkle ``TreeBuilder`` runs, and one checkpoint at size N plus the head are
   checked so the result is known to be right), reading peak RSS after 10 %, 50 % and 100 % of the events.
3. Raw chaining over the same canonical bytes: ``prev = sha256(prev + body)``, nothing else.

Run: ``python -m bench.verify_chain [--events N] [--tmpdir DIR]``; results in ``var/bench/verify_chain.json``.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/verify_chain.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from jishi.ledger import hashing, merkle, signing
from jishi.ledger.verify import CheckpointRow, EventRow, verify_chain

NAME = "verify_chain"
FONDS = "J001"
SEED = 20260301
CST = timezone(timedelta(hours=8))
Reading = dict[str, float | None]


@dataclass(frozen=True)
class Generated:
    events: int
    head_hash: str
    root_hex: str
    seconds: float
    rows_bytes: int
    bodies_bytes: int
    payload_bytes_mean: float
    body_bytes_mean: float


def generate_events(n: int, seed: int = SEED) -> Iterator[tuple[EventRow, bytes]]:
    """A valid chain of ``n`` events, one at a time: (row as stored, canonical body bytes that were hashed)."""
    rng = random.Random(seed)
    prev = hashing.GENESIS_PREV
    start = datetime(2026, 3, 2, 8, 30, tzinfo=CST)
    system_key = signing.generate_keypair().public_key
    actors = [common.person(rng) for _ in range(200)]
    for seq in range(1, n + 1):
        if seq == 1:
            action, subject_type, subject_id = "chain.genesis", "chain", FONDS
            payload: dict[str, Any] = {
                "algorithm": "sha256",
                "system_key": {"key_id": signing.key_id(system_key), "public_key": system_key.hex()},
            }
            actor = "系统"
        else:
            action, subject_type, subject_id, payload = common.event_content(rng, seq)
            name, username = rng.choice(actors)
            actor = f"{name}({username})"
        recorded_at = (start + timedelta(seconds=seq * 7, microseconds=rng.randrange(1_000_000))).isoformat()
        body = hashing.event_body(
            fonds=FONDS,
            seq=seq,
            prev_hash=prev,
            recorded_at=recorded_at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
        )
        digest = hashing.event_hash(body)
        row = EventRow(
            fonds=FONDS,
            seq=seq,
            prev_hash=prev,
            hash=digest,
            recorded_at=recorded_at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=hashing.canonical_json(payload),
        )
        yield row, hashing.canonical_json(body).encode("utf-8")
        prev = digest


def _write_files(n: int, rows_path: str, bodies_path: str) -> Generated:
    """Child process: stream the generated chain to disk (rows TSV + canonical bodies)."""
    t0 = time.perf_counter()
    builder = merkle.TreeBuilder("sha256")
    head = hashing.GENESIS_PREV
    payload_total = body_total = 0
    with open(rows_path, "w", encoding="utf-8", newline="\n") as rows, open(bodies_path, "wb") as bodies:
        for row, body in generate_events(n):
            # Canonical JSON escapes every control character, so neither tabs nor newlines occur inside a field.
            rows.write(
                "\t".join(
                    (
                        row.fonds,
                        str(row.seq),
                        row.prev_hash,
                        row.hash,
                        row.recorded_at,
                        row.actor,
                        row.action,
                        row.subject_type,
                        row.subject_id,
                        row.payload,
                    )
                )
                + "\n"
            )
            bodies.write(body + b"\n")
            builder.append_leaf(bytes.fromhex(row.hash))
            head = row.hash
            payload_total += len(row.payload.encode("utf-8"))
            body_total += len(body)
    return Generated(
        events=n,
        head_hash=head,
        root_hex=builder.root().hex(),
        seconds=time.perf_counter() - t0,
        rows_bytes=os.path.getsize(rows_path),
        bodies_bytes=os.path.getsize(bodies_path),
        payload_bytes_mean=payload_total / n,
        body_bytes_mean=body_total / n,
    )


def _generate_in_child(n: int, rows_path: str, bodies_path: str) -> Generated:
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_write_files, (n, rows_path, bodies_path))


def read_rows(path: str, marks: dict[int, Reading | None] | None = None) -> Iterator[EventRow]:
    """Stream EventRows from the rows file; when ``i`` rows have been consumed and ``i`` is in ``marks``,
    record the memory readings there (the consumer has finished with all ``i`` rows when it asks for the next)."""
    marks = marks if marks is not None else {}
    with open(path, encoding="utf-8", newline="\n") as f:
        for i, line in enumerate(f):
            if i in marks:
                marks[i] = common.memory_reading()
            fonds, seq, prev, digest, at, actor, action, subject_type, subject_id, payload = line[:-1].split("\t")
            yield EventRow(fonds, int(seq), prev, digest, at, actor, action, subject_type, subject_id, payload)


def read_bodies(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        for line in f:
            yield line[:-1]


def raw_chain(bodies: Iterator[bytes]) -> bytes:
    """The floor: sha256 of (previous digest + canonical body), nothing else."""
    sha256 = hashlib.sha256
    prev = bytes(32)
    for body in bodies:
        prev = sha256(prev + body).digest()
    return prev


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--events",
        type=common.positive_int,
        default=common.default_size("BENCH_EVENTS", 1_000_000, minimum=100),
        help="chain length (env BENCH_EVENTS; default 1,000,000, 10,000 with BENCH_QUICK=1)",
    )
    parser.add_argument(
        "--tmpdir", default=os.environ.get("BENCH_TMPDIR") or None, help="where the temporary files go (~1.3 kB/event)"
    )
    args = parser.parse_args(argv)
    n: int = args.events
    points = sorted({max(1, n // 10), max(1, n // 2)} - {n})

    print(f"verify_chain: {common.num(n)} events (generating in a child process…)", flush=True)
    baseline_peak = common.peak_rss_mib()
    with tempfile.TemporaryDirectory(prefix="jishi-bench-", dir=args.tmpdir) as tmp:
        rows_path, bodies_path = str(Path(tmp) / "rows.tsv"), str(Path(tmp) / "bodies.bin")
        gen = _generate_in_child(n, rows_path, bodies_path)
        print(
            f"  generated in {gen.seconds:.1f} s: payload {gen.payload_bytes_mean:.0f} B, "
            f"canonical body {gen.body_bytes_mean:.0f} B per event on average; "
            f"files {gen.rows_bytes / 2**20:.0f} + {gen.bodies_bytes / 2**20:.0f} MiB",
            flush=True,
        )
        before_verify: Reading = common.memory_reading()

        # Pass 0: reading and parsing rows alone (also warms the page cache for the timed passes).
        feed_s, _ = _timed(lambda: collections.deque(read_rows(rows_path), maxlen=0))
        # Pass 1: verify_chain, streaming, with memory readings along the way.
        marks: dict[int, Reading | None] = dict.fromkeys(points)
        checkpoint = CheckpointRow(FONDS, n, gen.root_hex, "", "", "")
        verify_s, result = _timed(
            lambda: verify_chain(
                read_rows(rows_path, marks), "sha256", checkpoints=[checkpoint], head=(n, gen.head_hash)
            )
        )
        marks[n] = common.memory_reading()
        if result is not None:
            print(f"verify_chain reported a break in a valid chain: {result}", file=sys.stderr)
            return 1
        # Pass 2: raw hashlib chaining over the same canonical bytes.
        body_feed_s, _ = _timed(lambda: collections.deque(read_bodies(bodies_path), maxlen=0))
        raw_s, _ = _timed(raw_chain, read_bodies(bodies_path))

    verify_rate = n / verify_s
    verify_only_s = max(verify_s - feed_s, 1e-9)
    raw_only_s = max(raw_s - body_feed_s, 1e-9)
    raw_rate = n / raw_s
    timing_rows = [
        ("read rows file → EventRow (feed only)", f"{feed_s:.2f}", common.num(n / feed_s), f"{feed_s / n * 1e6:.2f}"),
        ("verify_chain incl. feed", f"{verify_s:.2f}", common.num(verify_rate), f"{verify_s / n * 1e6:.2f}"),
        (
            "verify_chain excl. feed",
            f"{verify_only_s:.2f}",
            common.num(n / verify_only_s),
            f"{verify_only_s / n * 1e6:.2f}",
        ),
        ("read bodies file (feed only)", f"{body_feed_s:.2f}", common.num(n / body_feed_s), ""),
        ("raw sha256(prev+body) incl. feed", f"{raw_s:.2f}", common.num(raw_rate), f"{raw_s / n * 1e6:.2f}"),
        ("raw sha256(prev+body) excl. feed", f"{raw_only_s:.2f}", common.num(n / raw_only_s), ""),
    ]
    print()
    print(
        common.table(
            ["pass", "seconds", "events/s", "µs/event"],
            timing_rows,
            title=f"Chain verification, {common.num(n)} events (1 core)",
        )
    )
    ratio = raw_rate / verify_rate
    print(f"\nraw hashlib chaining is {ratio:.1f}x faster than verify_chain (both including reading their file)")
    print(f"excluding the feed: {(n / raw_only_s) / (n / verify_only_s):.1f}x")

    readings = {k: v for k, v in sorted(marks.items()) if v is not None}
    mem_rows = [("before verifying", before_verify["peak_rss_mib"], before_verify["rss_mib"])]
    mem_rows += [(f"after {common.num(k)} events", v["peak_rss_mib"], v["rss_mib"]) for k, v in readings.items()]
    print()
    print(
        common.table(
            ["point", "peak RSS MiB", "current RSS MiB"],
            [(p, f"{a:.1f}" if a is not None else "?", f"{b:.1f}" if b is not None else "?") for p, a, b in mem_rows],
            title="Memory while verifying (ru_maxrss of this process; generation ran in a child process)",
        )
    )
    peaks = [v["peak_rss_mib"] or 0.0 for v in readings.values()]
    growth = peaks[-1] - peaks[0]
    print(f"peak RSS growth from first reading to last: {growth:+.1f} MiB")

    path = common.write_result(
        NAME,
        {
            "events": n,
            "generation": {
                "seconds": round(gen.seconds, 3),
                "payload_bytes_mean": round(gen.payload_bytes_mean, 1),
                "body_bytes_mean": round(gen.body_bytes_mean, 1),
                "rows_file_bytes": gen.rows_bytes,
                "bodies_file_bytes": gen.bodies_bytes,
            },
            "feed_seconds": round(feed_s, 3),
            "verify_chain": {
                "seconds": round(verify_s, 3),
                "events_per_s": round(verify_rate),
                "events_per_s_excluding_feed": round(n / verify_only_s),
                "result": "ok",
            },
            "raw_sha256": {
                "seconds": round(raw_s, 3),
                "events_per_s": round(raw_rate),
                "events_per_s_excluding_feed": round(n / raw_only_s),
                "feed_seconds": round(body_feed_s, 3),
            },
            "raw_over_verify_ratio": round(ratio, 2),
            "raw_over_verify_ratio_excluding_feed": round((n / raw_only_s) / (n / verify_only_s), 2),
            "memory_mib": {
                "baseline_peak_rss": round(baseline_peak, 1),
                "before_verify": before_verify,
                "after_events": {str(k): v for k, v in readings.items()},
                "peak_rss_growth": round(growth, 1),
            },
        },
    )
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
