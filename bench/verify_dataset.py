"""Ledger verification over the province dataset, as a ratio to raw hashlib chaining of the same bytes.

The dataset (``bench.dataset``, reused when already generated) is verified the way ``manage.py ledger verify``
does it — ``selectors.chain_verify`` per chain: rows streamed from PostgreSQL, every payload re-parsed and
re-hashed, links, personal and system signatures against the key registry, checkpoints and heads (material
files are not read: ``check_files=False``, their cost is the archive benchmark's) — once for the whole dataset
and once for its largest fonds. The whole-dataset pass shares whole chains out to ``--workers`` processes (2 by
default: both cores; 1 is exactly ``ledger verify``) and reports events/s overall and per process. The floor:
``prev = sha256(prev + body)`` over the canonical body bytes of the same events, prepared beforehand, nothing
else, in one process: the ratios compare one process with one process. Peak RSS is read after each pass:
verification streams, so it must not grow with the number of events.

Run: ``python -m bench.verify_dataset [--scale quick|full|N]``; results in ``var/bench/verify_dataset.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/verify_dataset.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset

NAME = "verify_dataset"


def _setup_django(url: str, materials_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["JISHI_MEDIA_ROOT"] = str(materials_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
    import django

    django.setup()


def _bodies(chain: Any) -> list[bytes]:
    """Canonical body bytes of every event of the chain, as the verifier hashes them (prepared, not timed)."""
    import json

    from jishi.ledger import hashing
    from jishi.ledger.selectors import chain_rows
    from jishi.ledger.verify import row_body

    out = []
    for row in chain_rows(chain):
        out.append(hashing.canonical_json(row_body(row, json.loads(row.payload))).encode("utf-8"))
    return out


def _raw_chain(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    prev = b""
    for body in bodies:
        prev = hashlib.sha256(prev + body).digest()
    return time.perf_counter() - started


def _verify(chains: list[Any], keys: Any) -> tuple[float, int]:
    from jishi.ledger.selectors import chain_verify

    started = time.perf_counter()
    done = 0
    for number, chain in enumerate(chains, start=1):
        broken = chain_verify(chain, keys=keys, check_files=False)
        if broken is not None:
            raise SystemExit(f"{NAME}: chain {chain.fonds} does not verify: {broken}")
        done += chain.seq
        if len(chains) > 1 and (number % 10 == 0 or number == len(chains)):
            elapsed = time.perf_counter() - started
            print(f"  {number}/{len(chains)} chains, {done:,} events, {done / elapsed:,.0f} events/s", flush=True)
    return time.perf_counter() - started, done


_KEYS: list[Any] = []


def _worker_init(url: str, materials_dir: str) -> None:
    _setup_django(url, Path(materials_dir))


def _verify_fonds(fonds: str) -> tuple[str, int, float, float]:
    """In a worker: ``chain_verify`` of one chain; (fonds, events, seconds, the worker's peak RSS MiB)."""
    from jishi.ledger.models import Chain
    from jishi.ledger.selectors import chain_verify, registry

    if not _KEYS:
        _KEYS.append(registry())  # pass 1, as `ledger verify` does it, once per worker (seconds)
    chain = Chain.objects.get(fonds=fonds)
    started = time.perf_counter()
    broken = chain_verify(chain, keys=_KEYS[0], check_files=False)
    if broken is not None:
        raise SystemExit(f"{NAME}: chain {chain.fonds} does not verify: {broken}")
    return fonds, chain.seq, time.perf_counter() - started, common.peak_rss_mib()


def _verify_parallel(chains: list[Any], url: str, materials_dir: str, workers: int) -> tuple[float, int, float, float]:
    """Every chain, largest first, shared out to ``workers`` processes: (wall s, events, summed s, peak RSS)."""
    import multiprocessing

    order = [c.fonds for c in sorted(chains, key=lambda c: -c.seq)]
    started = time.perf_counter()
    done = busy = 0.0
    rss = 0.0
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(workers, initializer=_worker_init, initargs=(url, materials_dir)) as pool:
        for number, (_, events, seconds, peak) in enumerate(pool.imap_unordered(_verify_fonds, order), start=1):
            done += events
            busy += seconds
            rss = max(rss, peak)
            if number % 10 == 0 or number == len(order):
                elapsed = time.perf_counter() - started
                print(
                    f"  {number}/{len(order)} chains, {done:,.0f} events, {done / elapsed:,.0f} events/s "
                    f"({done / busy:,.0f} per process)",
                    flush=True,
                )
    return time.perf_counter() - started, int(done), busy, rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verify_dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="quick" if common.quick() else "full", help="quick, full or N")
    parser.add_argument("--server-url", default=os.environ.get("PG_URL") or dataset.DEFAULT_PG_URL)
    parser.add_argument(
        "--one-fonds-only",
        action="store_true",
        help="skip the whole-dataset pass (about an hour for the full dataset on 2 cores)",
    )
    parser.add_argument(
        "--workers",
        type=common.positive_int,
        default=2,
        help="processes for the whole-dataset pass, each verifying whole chains (default 2: both cores; 1 is "
        "exactly `ledger verify`)",
    )
    args = parser.parse_args(argv)
    scale = dataset.parse_scale(args.scale)
    url, info = dataset.ensure(args.server_url, scale)
    _setup_django(url, Path(info["materials_dir"]))
    from jishi.ledger.models import Chain

    chains = list(Chain.objects.order_by("fonds"))
    largest = max(chains, key=lambda c: c.seq)
    print(f"{NAME}: {len(chains)} chains, {sum(c.seq for c in chains):,} events; largest {largest.fonds}", flush=True)

    from jishi.ledger.selectors import key_rows, registry
    from jishi.ledger.verify import collect_keys

    # A fonds' keys are valid only in its own chain: its registry comes from that chain alone (pass 1).
    one_keys = collect_keys([key_rows(largest, upto=largest.seq)])
    one_s, one_events = _verify([largest], one_keys)
    one_rss = common.peak_rss_mib()
    bodies = _bodies(largest)
    raw_s = _raw_chain(bodies)
    raw_rate = len(bodies) / raw_s
    del bodies
    print(f"{NAME}: one fonds verified at {one_events / one_s:,.0f} events/s; raw {raw_rate:,.0f}/s", flush=True)
    registry_s = all_s = busy_s = 0.0
    all_events, all_rss = 0, 0.0
    if not args.one_fonds_only:
        # Pass 1 of `ledger verify` over every chain's key events, outside the timing of pass 2.
        started = time.perf_counter()
        keys = registry()
        registry_s = time.perf_counter() - started
        print(f"{NAME}: key registry learned from every chain in {registry_s:.0f} s", flush=True)
        if args.workers == 1:
            all_s, all_events = _verify(chains, keys)
            busy_s, all_rss = all_s, common.peak_rss_mib()
        else:
            all_s, all_events, busy_s, all_rss = _verify_parallel(chains, url, info["materials_dir"], args.workers)
    result = {
        "scale": scale,
        "chains": len(chains),
        "events": all_events,
        "whole_dataset": {
            "seconds": round(all_s, 1),
            "events_per_s": round(all_events / all_s),
            "workers": args.workers,
            "events_per_s_per_process": round(all_events / busy_s),
        }
        if all_s
        else None,
        "dataset_events": sum(c.seq for c in chains),
        "key_registry_pass_seconds": round(registry_s, 1),
        "one_fonds": {"fonds": largest.fonds, "events": one_events, "events_per_s": round(one_events / one_s)},
        "raw_sha256_chaining_one_fonds": {"events_per_s": round(raw_rate)},
        "raw_over_verify_ratio_one_fonds": round(raw_rate / (one_events / one_s), 1),
        # Per process: raw chaining is one process too.
        "raw_over_verify_ratio_whole": round(raw_rate / (all_events / busy_s), 1) if busy_s else None,
        "peak_rss_mib": {"after_one_fonds": round(one_rss, 1), "after_whole_dataset": round(all_rss, 1)},
        "signatures_checked": True,
        "files_checked": False,
    }
    whole = result["whole_dataset"]
    rows = [
        [
            f"whole dataset ({args.workers} processes)",
            f"{all_events:,}",
            f"{whole['events_per_s']:,} ({whole['events_per_s_per_process']:,} per process)" if whole else "skipped",
            f"{all_rss:.0f}",
        ],
        [
            f"one fonds ({largest.fonds})",
            f"{one_events:,}",
            f"{result['one_fonds']['events_per_s']:,}",
            f"{one_rss:.0f}",
        ],
        ["raw sha256 chaining (same bytes)", f"{one_events:,}", f"{round(raw_rate):,}", ""],
    ]
    print(common.table(["pass", "events", "events/s", "peak RSS MiB"], rows, title="Ledger verification, dataset"))
    common.write_result(NAME, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
