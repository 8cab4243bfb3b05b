"""One results file per ``make bench`` run: ``bench/results/<UTC timestamp>.json`` with everything (machine,
sizes, every figure and ratio) and ``<timestamp>.md``, the same as Markdown tables.

These files are committed deliberately (``bench/results/`` is not ignored): a run's figures are evidence, and
``docs/performance.md`` quotes the first full run. Scratch output stays in ``var/bench/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import common

RESULTS_DIR = common.ROOT / "bench" / "results"


def summary_lines(name: str, r: dict[str, Any]) -> list[str]:
    """One or a few lines per benchmark for the summary tables (plain text and Markdown)."""
    if "skipped" in r:
        return [f"skipped: {r['skipped']}"]
    if "failed" in r:
        return [f"failed: {r['failed']}"]
    if name == "dataset":
        c = r["counts"]
        return [
            f"{c['nominations']:,} nominations, {c['batches']:,} batches, {c['cadres']:,} cadres, "
            f"{c['events']:,} events, {c['materials']:,} materials ({c['material_files']:,} files); "
            f"{r['db_size_bytes'] / 2**20:,.0f} MiB; "
            + ("reused" if r.get("reused") else f"generated in {r['phases_s']['total']:.0f} s")
        ]
    if name == "dataset_repro":
        verdict = "identical" if r["identical"] else f"DIFFERENT from event {r['first_difference_seq']}"
        return [f"{r['fonds']} rebuilt from the seed alone ({r['events']:,} events): {verdict} (md5 {r['digest']})"]
    if name == "verify_dataset" and not r.get("whole_dataset"):
        return [
            f"whole dataset ({r.get('dataset_events', 0):,} events) skipped; one fonds {r['one_fonds']['fonds']} "
            f"({r['one_fonds']['events']:,} events) {r['one_fonds']['events_per_s']:,}/s; raw sha256 chaining "
            f"{r['raw_sha256_chaining_one_fonds']['events_per_s']:,}/s ({r['raw_over_verify_ratio_one_fonds']}x); "
            f"peak RSS {r['peak_rss_mib']['after_one_fonds']} MiB"
        ]
    if name == "verify_dataset":
        return [
            f"{r['events']:,} events in {r['chains']} chains: {r['whole_dataset']['events_per_s']:,}/s with "
            f"{r['whole_dataset'].get('workers', 1)} processes "
            f"({r['whole_dataset'].get('events_per_s_per_process', r['whole_dataset']['events_per_s']):,}/s each) "
            f"(one fonds {r['one_fonds']['events_per_s']:,}/s; raw sha256 chaining "
            f"{r['raw_sha256_chaining_one_fonds']['events_per_s']:,}/s, {r['raw_over_verify_ratio_one_fonds']}x); "
            f"peak RSS {r['peak_rss_mib']['after_whole_dataset']} MiB"
            + (
                f" as reported (inherited by the workers from their parent); per chain measured afresh at most "
                f"{max(r['peak_rss_per_chain_measured_mib'].values())} MiB"
                if "peak_rss_per_chain_measured_mib" in r
                else ""
            )
        ]
    if name == "verify_dataset_signatures":
        p = r["passes"]
        return [
            f"{r['signatures']:,} signatures of {r['fonds']} ({r['keys']} keys), Pool({r['workers']}): "
            f"check_signature {p['check_signature (ledger verify)']['signatures_per_s']:,}/s, "
            f"raw Ed25519 {p['raw Ed25519PublicKey.verify (keys parsed once)']['signatures_per_s']:,}/s "
            f"(raw {r['raw_over_check_signature_ratio']}x); one process "
            f"{r['single_process_check_signature']['signatures_per_s']:,}/s "
            f"(Pool speed-up {r['pool_speedup_over_single_process']}x)"
        ]
    if name == "faults":
        return [
            f"{x['scenario']}: {x['cycles']} cycles, {x['acknowledged_writes']:,} acknowledged writes, "
            f"lost {x['lost']}, partial {x['partial']}, chain failures {x['chain_failures']}"
            if "cycles" in x
            else f"{x['scenario']}: FAILED — {x.get('error', 'see var/bench/faults.json')}"
            for x in r["scenarios"]
        ]
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
    if name == "http_load":
        s = r["server"]
        base = r["endpoints"][0]
        worst = max(r["endpoints"], key=lambda e: e["p99_ms"])
        return [
            f"{r['users']} users, gunicorn {s['worker_class']} x{s['workers']}, {r['dataset']}: trivial view "
            f"{base['requests_per_s']:,.0f}/s p99 {base['p99_ms']:.0f} ms",
            f"slowest p99: {worst['endpoint']} {worst['p99_ms']:.0f} ms ({worst['ratio_to_trivial']['p99']}x trivial), "
            f"{worst['requests_per_s']:,.1f}/s",
        ]
    if name == "write_path":
        st = r["steps"]
        a1, a4 = r["ledger_appends"]
        return [
            f"{st['completions']} signed steps: sign+complete p50 {st['sign_and_complete_incl_scrypt']['p50_ms']:.0f} "
            f"/ p99 {st['sign_and_complete_incl_scrypt']['p99_ms']:.0f} ms incl. scrypt, "
            f"p50 {st['sign_and_complete_excl_scrypt']['p50_ms']:.0f} / p99 "
            f"{st['sign_and_complete_excl_scrypt']['p99_ms']:.0f} ms excl.",
            f"ledger appends: 1 fonds {a1['appends_per_s']:,.0f}/s, 4 fonds {a4['appends_per_s']:,.0f}/s "
            f"({r['four_fonds_over_one_ratio']}x; ÷ raw commits {a1.get('ratio_to_raw_commits', '-')}, "
            f"{a4.get('ratio_to_raw_commits', '-')}); chains verify: {'yes' if r['chains_ok'] else 'NO'}",
        ]
    return []


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _http_section(r: dict[str, Any]) -> list[str]:
    s = r["server"]
    rows = [
        (
            e["endpoint"],
            f"`{e['path']}`",
            e["auth"],
            f"{e['requests_per_s']:,.1f}",
            f"{e['p50_ms']:.1f}",
            f"{e['p95_ms']:.1f}",
            f"{e['p99_ms']:.1f}",
            e["ratio_to_trivial"]["requests_per_s"],
            e["ratio_to_trivial"]["p50"],
            e["ratio_to_trivial"]["p99"],
            sum(e["non_2xx"].values()) + e["errors"],
            f"{e['client_cpu_pct']:.0f}%",
            f"{e['server_cpu_pct']:.0f}%",
        )
        for e in r["endpoints"]
    ]
    out = [
        f"### HTTP under load ({r['users']} users, gunicorn {s['worker_class']} x{s['workers']} "
        f"threads {s['threads']}, {r['seconds_per_endpoint']:.0f} s per endpoint)",
        "",
        f"Database: {r['database']}, dataset: {r['dataset']} {r['sizes']}. Ratios are to the trivial view "
        f"measured first; it is measured again last (drift last/first: {r['baseline_drift_last_over_first']}). "
        "CPU is percent of one core.",
        "",
        _md_table(
            [
                "endpoint",
                "path",
                "auth",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "req/s ÷ trivial",
                "p50 ÷ trivial",
                "p99 ÷ trivial",
                "errors",
                "client CPU",
                "server CPU",
            ],
            rows,
        ),
    ]
    if r.get("server_sweep"):
        out += [
            "",
            "Server set-ups tried (score: batch list req/s; the best served the run):",
            "",
            _md_table(
                ["worker class", "workers", "threads", "trivial req/s", "batch list req/s", "score"],
                [
                    (
                        w["worker_class"],
                        w["workers"],
                        w["threads"],
                        f"{w['trivial view']['requests_per_s']:,.0f}",
                        f"{w['batch list']['requests_per_s']:,.1f}",
                        w["score_requests_per_s"],
                    )
                    for w in r["server_sweep"]
                ],
            ),
        ]
    return out


def _write_section(r: dict[str, Any]) -> list[str]:
    st, cr = r["steps"], r["crypto"]
    measures = [
        ("whole step (start … complete), incl. scrypt", st["step_whole_incl_scrypt"]),
        ("whole step, excl. scrypt", st["step_whole_excl_scrypt"]),
        ("sign + complete, incl. scrypt", st["sign_and_complete_incl_scrypt"]),
        ("sign + complete, excl. scrypt", st["sign_and_complete_excl_scrypt"]),
        ("scrypt within a step", st["scrypt_per_step"]),
        (f"scrypt unseal alone (N=2^{cr['scrypt_n_log2']})", cr["scrypt_unseal"]),
    ]
    return [
        f"### Write path ({st['completions']} signed step completions, {st['signatures']} signatures)",
        "",
        _md_table(
            ["measure", "p50 ms", "p99 ms", "mean ms"],
            [(m, s["p50_ms"], s["p99_ms"], s["mean_ms"]) for m, s in measures],
        ),
        "",
        f"Ed25519 sign alone: {cr['ed25519_sign_ms']} ms. Ledger appends (PostgreSQL {r['postgresql']}, "
        f"synchronous_commit={r['synchronous_commit']}):",
        "",
        _md_table(
            ["configuration", "appends/s", "p50 ms", "p99 ms", "÷ 1 fonds", "raw INSERT+COMMIT/s", "÷ raw"],
            [
                (
                    c["label"],
                    f"{c['appends_per_s']:,.0f}",
                    c["p50_ms"],
                    c["p99_ms"],
                    round(c["appends_per_s"] / r["ledger_appends"][0]["appends_per_s"], 2),
                    f"{c['raw_commits_per_s']:,.0f}" if "raw_commits_per_s" in c else "-",
                    c.get("ratio_to_raw_commits", "-"),
                )
                for c in r["ledger_appends"]
            ],
        ),
    ]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# Benchmark run {results['timestamp']}",
        "",
        f"{'Quick' if results.get('quick') else 'Full'} run, {results.get('total_seconds', '?')} s. Machine: "
        f"{m.get('cpus')} CPUs ({m.get('cpu_model')}), Python {m.get('python')}, {m.get('platform')}, "
        f"load average {m.get('load_average_1_5_15')}.",
        "",
        "## Summary",
        "",
    ]
    rows = []
    for name, b in results["benchmarks"].items():
        status = "ok" if b["exit_code"] == 0 else f"FAILED (exit {b['exit_code']})"
        if b.get("reused_from"):
            status += f" (separate run of {b['reused_from']})"
        for i, line in enumerate(summary_lines(name, b["result"]) if b["result"] else ["no result file"]):
            rows.append((name if i == 0 else "", status if i == 0 else "", b["seconds"] if i == 0 else "", line))
    lines.append(_md_table(["benchmark", "status", "seconds", "result"], rows))
    details = {"http_load": _http_section, "write_path": _write_section}
    for name, section in details.items():
        r = results["benchmarks"].get(name, {}).get("result") or {}
        if r and "skipped" not in r and "failed" not in r:
            lines += ["", *section(r)]
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """Write ``<timestamp>.json`` and ``<timestamp>.md``; ``results['timestamp']`` is set if missing."""
    results.setdefault("timestamp", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ"))
    results.setdefault("machine", common.machine())
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{results['timestamp']}.json"
    md_path = directory / f"{results['timestamp']}.md"
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
