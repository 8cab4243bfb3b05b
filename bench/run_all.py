"""Run every benchmark in order, each in its own process (so peak-RSS readings stay separate), and summarise.

``make bench`` runs this; ``BENCH_QUICK=1`` shrinks every size about 100 times for a smoke run.
Each benchmark writes ``var/bench/<name>.json``; the summary goes to ``var/bench/run_all.json``.
Exit status is non-zero if any benchmark failed (an unreachable PostgreSQL is a skip, not a failure, unless CI=true).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/run_all.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

BENCHMARKS = ("verify_chain", "verify_signatures", "append_latency", "archive_package")


def _summary(name: str, r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return [f"skipped: {r['skipped']}"]
    if "failed" in r:
        return [f"failed: {r['failed']}"]
    if name == "verify_chain":
        mem = r["memory_mib"]["after_events"]
        peaks = ", ".join(f"{common.num(int(k))}: {v['peak_rss_mib']:.1f}" for k, v in mem.items())
        return [
            f"{common.num(r['events'])} events: verify_chain {common.num(r['verify_chain']['events_per_s'])}/s, "
            f"raw sha256 chaining {common.num(r['raw_sha256']['events_per_s'])}/s "
            f"(raw {r['raw_over_verify_ratio']:.1f}x faster)",
            f"peak RSS MiB after {peaks}",
        ]
    if name == "verify_signatures":
        p = r["passes"]
        return [
            f"{common.num(r['signatures'])} signatures, Pool({r['workers']}): "
            f"signing.verify {common.num(p['signing.verify']['signatures_per_s'])}/s, "
            f"raw {common.num(p['raw Ed25519PublicKey.verify (keys parsed once)']['signatures_per_s'])}/s "
            f"(raw/signing.verify {r['raw_over_signing_verify_ratio']:.2f}x)",
        ]
    if name == "append_latency":
        lines = [
            f"{c['label']}: p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms, {c['appends_per_s']:,.0f}/s"
            for c in r["configurations"]
        ]
        return [*lines, f"chains without gaps or duplicates, all verify: {'yes' if r['chains_ok'] else 'NO'}"]
    if name == "archive_package":
        return [
            f"{r['materials']} materials, {r['payload_mb']} MB: export {r['export']['mb_per_s']} MB/s, "
            f"verify {r['verify']['mb_per_s']} MB/s, raw sha256 {r['raw_sha256']['mb_per_s']} MB/s "
            f"(export {r['raw_over_export_ratio']}x, verify {r['raw_over_verify_ratio']}x slower than raw)",
        ]
    return []


def main() -> int:
    out = common.out_dir()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name in BENCHMARKS:
        result_file = out / f"{name}.json"
        result_file.unlink(missing_ok=True)
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=common.ROOT)
        seconds = time.perf_counter() - t0
        data = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
        results[name] = {"exit_code": rc, "seconds": round(seconds, 1), "result": data}

    total = time.perf_counter() - started
    print(f"\n=== summary ({'BENCH_QUICK=1, ' if common.quick() else ''}total {total:.0f} s) ===")
    rows = []
    for name, r in results.items():
        lines = _summary(name, r["result"]) if r["result"] else ["no result file"]
        status = "ok" if r["exit_code"] == 0 else f"FAILED (exit {r['exit_code']})"
        for i, line in enumerate(lines):
            rows.append(
                (name if i == 0 else "", status if i == 0 else "", f"{r['seconds']:.0f}" if i == 0 else "", line)
            )
    print(common.table(["benchmark", "status", "seconds", "result"], rows))
    path = common.write_result("run_all", {"total_seconds": round(total, 1), "benchmarks": results})
    print(f"\nresults: {out}/ ({path.name} and one file per benchmark)")
    return 0 if all(r["exit_code"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
