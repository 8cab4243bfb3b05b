"""Is the province dataset reproducible? Rebuild one fonds from the seed alone and compare it event by event.

The fonds (default: the smallest, about a minute at full size) is built by the same worker code into a scratch
database ``jishi_dataset_repro`` (dropped afterwards) and its chain is compared with the same fonds of the
generated dataset: every event's sequence number, hash, time, action, actor, subject and payload, as one digest
per chain, and the first event that differs if any. Exit status 0 when identical, 1 when not.

Run: ``python -m bench.dataset_repro [--scale full] [--fonds X100]`` after ``python -m bench.dataset``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import common, dataset

NAME = "dataset_repro"
SCRATCH = dataset.DB_PREFIX + "repro"
DIGEST_SQL = """
    SELECT count(*), md5(string_agg(
        concat_ws('|', e.seq, e.hash, e.recorded_at, e.action, e.actor_name, e.subject_type, e.subject_id, e.payload),
        E'\\n' ORDER BY e.seq))
    FROM ledger_event e JOIN ledger_chain c ON c.id = e.chain_id WHERE c.fonds = %s
"""
ROWS_SQL = """
    SELECT e.seq, e.hash FROM ledger_event e JOIN ledger_chain c ON c.id = e.chain_id
    WHERE c.fonds = %s ORDER BY e.seq
"""


def _digest(url: str, fonds: str) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        row = conn.execute(DIGEST_SQL, (fonds,)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _first_difference(a_url: str, b_url: str, fonds: str) -> int | None:
    with psycopg.connect(a_url) as a, psycopg.connect(b_url) as b:
        for left, right in zip(a.execute(ROWS_SQL, (fonds,)), b.execute(ROWS_SQL, (fonds,)), strict=False):
            if left != right:
                return int(left[0])
    return None


def rebuild(server_url: str, scale: float, seed: int, complete_share: float, fonds: str) -> tuple[str, float]:
    """Build only ``fonds`` of the plan into the scratch database; returns its URL and the seconds it took."""
    url = dataset.create_database(server_url, scale, name=SCRATCH)
    plan = dataset._plan(scale, seed, complete_share)
    spawn = multiprocessing.get_context("spawn")
    materials = tempfile.mkdtemp(prefix="jishi-repro-")
    with spawn.Pool(1) as pool:
        setup = pool.apply(dataset._setup, (url, materials, plan.to_json()))
    ctx = dataset.context(url, materials, seed, setup, plan, complete_share)
    chosen = next((f for f in plan.fonds if f.code == fonds), None)
    if chosen is None:
        raise SystemExit(f"{NAME}: the plan has no fonds {fonds}")
    parent = plan.fonds[chosen.parent_index].code if chosen.parent_index is not None else None
    started = time.perf_counter()
    try:
        with spawn.Pool(1, initializer=dataset._worker_init, initargs=(url, materials)) as pool:
            pool.apply(dataset._build, ((chosen, parent, ctx),))
    finally:
        shutil.rmtree(materials, ignore_errors=True)
    return url, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset_repro", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="quick" if common.quick() else "full", help="quick, full or N")
    parser.add_argument("--fonds", default="", help="fonds code (default: the smallest of the plan)")
    parser.add_argument("--server-url", default=os.environ.get("PG_URL") or dataset.DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    scale = dataset.parse_scale(args.scale)
    name = dataset.database_name(scale)
    generated = dataset.database_url(args.server_url, name)
    info = dataset.stored_info(generated)
    if info is None:
        raise SystemExit(f"{NAME}: no dataset in {name}; run python -m bench.dataset --scale {args.scale} first")
    made: dict[str, Any] = info["args"]
    plan = dataset._plan(scale, made["seed"], made["complete_share"])
    fonds = args.fonds or min(plan.fonds, key=lambda f: sum(f.nominations_per_batch)).code
    print(f"{NAME}: rebuilding {fonds} of {name} (seed {made['seed']}) into {SCRATCH}", flush=True)
    scratch, seconds = rebuild(args.server_url, scale, made["seed"], made["complete_share"], fonds)
    try:
        original, again = _digest(generated, fonds), _digest(scratch, fonds)
        differs = None if original == again else _first_difference(generated, scratch, fonds)
    finally:
        with psycopg.connect(args.server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    same = original == again
    print(
        common.table(
            ["chain", "events", "digest (md5 of every event's fields)"],
            [[f"{fonds} in {name}", f"{original[0]:,}", original[1]], [f"{fonds} rebuilt", f"{again[0]:,}", again[1]]],
            title="Dataset reproducibility",
        )
    )
    print(f"{NAME}: {'identical' if same else f'DIFFERENT (first at event {differs})'}; rebuilt in {seconds:.0f} s")
    common.write_result(
        NAME,
        {
            "scale": scale,
            "fonds": fonds,
            "events": original[0],
            "digest": original[1],
            "rebuilt_digest": again[1],
            "identical": same,
            "first_difference_seq": differs,
            "rebuild_seconds": round(seconds, 1),
        },
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
