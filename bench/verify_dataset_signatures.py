"""Signature verification over the province dataset, as a ratio to raw Ed25519, on both cores.

The signatures are the dataset's own (``bench.dataset``, reused when already generated): every personal and
system signature of its largest fonds (``--signatures`` caps the count), with the key registry learned from that
chain the way ``ledger verify`` learns it. One in every 1,000 is altered after loading (its role changed, so the
signed message no longer matches) and every pass must find exactly those.

Passes, each in a ``multiprocessing.Pool(2)`` over all loaded signatures (chunks of 1,000), best of ``--rounds``:

* ``check_signature`` — what ``ledger verify`` runs per signature: key lookup in the registry, owner and
  validity window, hex decoding, the message, ``signing.verify``;
* ``signing.verify`` over the same prepared (key, message, signature) bytes;
* raw ``Ed25519PublicKey.verify`` with each key parsed once per worker (the floor);

and ``check_signature`` in one process without a pool (the scaling across the two cores). The data reaches the
workers by ``fork``: a task is an index range, no signature crosses a pipe while timing.

Run: ``python -m bench.verify_dataset_signatures [--scale quick|full|N] [--signatures N] [--rounds R]``;
results in ``var/bench/verify_dataset_signatures.json``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

if __package__ in (None, ""):  # run as a script: python bench/verify_dataset_signatures.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset
from bench.verify_signatures import TAMPER_EVERY, WORKERS, _chunks, _noop

NAME = "verify_dataset_signatures"
FLOOR = "raw Ed25519PublicKey.verify (keys parsed once)"

# Filled in before the pool forks; workers read them by index.
_ROWS: list[Any] = []  # EventRow of the signed event, per signature
_SIGS: list[Any] = []  # SignatureRow, per signature
_REGISTRY: list[Any] = []  # [Registry]
_PUBLIC: list[bytes] = []
_MESSAGES: list[bytes] = []
_SIG_BYTES: list[bytes] = []
_KEY_OF: list[int] = []  # index into _KEY_BYTES
_KEY_BYTES: list[bytes] = []
_KEY_OBJECTS: list[Ed25519PublicKey] = []  # per worker, parsed in the initializer


def _setup_django(url: str, materials_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["JISHI_MEDIA_ROOT"] = str(materials_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
    import django

    django.setup()


def load(chain: Any, limit: int) -> int:
    """Registry, rows and prepared bytes of up to ``limit`` signatures of ``chain``; returns how many altered."""
    from jishi.ledger import signing
    from jishi.ledger.models import Signature
    from jishi.ledger.selectors import key_rows
    from jishi.ledger.verify import SYSTEM, EventRow, SignatureRow, collect_keys

    registry = collect_keys([key_rows(chain)])
    _REGISTRY[:] = [registry]
    rows = (
        Signature.objects.filter(event__chain=chain)
        .order_by("event__seq", "id")
        .values_list("event__seq", "event__hash", "event__actor_name", "key_id", "signer", "role", "signature")
    )
    key_index: dict[bytes, int] = {}
    altered = 0
    for i, (seq, event_hash, actor, key_id, signer, role, signature) in enumerate(rows[:limit].iterator(2000)):
        if i % TAMPER_EVERY == TAMPER_EVERY - 1:
            role, altered = role + "x", altered + 1
        row = EventRow(chain.fonds, seq, "", event_hash, "", actor, "", "", "", "")
        sig = SignatureRow(chain.fonds, seq, key_id, signer, role, signature)
        key = registry.system[chain.fonds] if signer == SYSTEM else registry.keys[(chain.fonds, key_id)]
        _ROWS.append(row)
        _SIGS.append(sig)
        _PUBLIC.append(key.public_key)
        _KEY_OF.append(key_index.setdefault(key.public_key, len(key_index)))
        _MESSAGES.append(signing.event_signature_message(fonds=chain.fonds, seq=seq, event_hash=event_hash, role=role))
        _SIG_BYTES.append(bytes.fromhex(signature))
    _KEY_BYTES[:] = list(key_index)
    return altered


def _init_worker() -> None:
    _KEY_OBJECTS[:] = [Ed25519PublicKey.from_public_bytes(k) for k in _KEY_BYTES]


def verify_check_signature(bounds: tuple[int, int]) -> int:
    from jishi.ledger.verify import check_signature

    rows, sigs, registry = _ROWS, _SIGS, _REGISTRY[0]
    return sum(check_signature(rows[i], sigs[i], registry) is None for i in range(*bounds))


def verify_with_signing(bounds: tuple[int, int]) -> int:
    from jishi.ledger import signing

    verify, public, messages, signatures = signing.verify, _PUBLIC, _MESSAGES, _SIG_BYTES
    return sum(verify(public[i], messages[i], signatures[i]) for i in range(*bounds))


def verify_raw(bounds: tuple[int, int]) -> int:
    keys, key_of, messages, signatures = _KEY_OBJECTS, _KEY_OF, _MESSAGES, _SIG_BYTES
    ok = 0
    for i in range(*bounds):
        try:
            keys[key_of[i]].verify(signatures[i], messages[i])
            ok += 1
        except InvalidSignature:
            pass
    return ok


PASSES: dict[str, Callable[[tuple[int, int]], int]] = {
    "check_signature (ledger verify)": verify_check_signature,
    "signing.verify": verify_with_signing,
    FLOOR: verify_raw,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="quick" if common.quick() else "full", help="quick, full or N")
    parser.add_argument("--server-url", default=os.environ.get("PG_URL") or dataset.DEFAULT_PG_URL)
    parser.add_argument("--signatures", type=common.positive_int, default=400_000, help="at most (default 400,000)")
    parser.add_argument("--rounds", type=common.positive_int, default=2, help="rounds per pass; the best counts")
    args = parser.parse_args(argv)
    url, info = dataset.ensure(args.server_url, dataset.parse_scale(args.scale))
    _setup_django(url, Path(info["materials_dir"]))
    from jishi.ledger.models import Chain

    largest = Chain.objects.order_by("-seq").first()
    if largest is None:
        raise SystemExit(f"{NAME}: the dataset holds no chain")
    t0 = time.perf_counter()
    altered = load(largest, args.signatures)
    n = len(_SIGS)
    expected = n - altered
    print(f"{NAME}: {n:,} signatures of {largest.fonds} by {len(_KEY_BYTES)} keys loaded in "
          f"{time.perf_counter() - t0:.0f} s; {altered} altered", flush=True)  # fmt: skip
    from django.db import connections

    connections.close_all()  # the forked workers must not share the parent's connection

    chunks = _chunks(n)
    timings: dict[str, list[float]] = {name: [] for name in PASSES}
    with multiprocessing.get_context("fork").Pool(WORKERS, initializer=_init_worker) as pool:
        pool.map(_noop, range(WORKERS * 4))  # workers up and initialised before timing
        for _ in range(args.rounds):
            for name, fn in PASSES.items():
                start = time.perf_counter()
                valid = sum(pool.imap_unordered(fn, chunks))
                timings[name].append(time.perf_counter() - start)
                if valid != expected:
                    print(f"{NAME}: {name} found {valid:,} valid signatures, expected {expected:,}", file=sys.stderr)
                    return 1
    start = time.perf_counter()
    single_valid = verify_check_signature((0, n))
    single_s = time.perf_counter() - start
    if single_valid != expected:
        print(f"{NAME}: check_signature in one process found {single_valid:,} valid", file=sys.stderr)
        return 1

    rates = {name: n / min(ts) for name, ts in timings.items()}
    single_rate = n / single_s
    rows: list[tuple[Any, ...]] = [
        (name, f"Pool({WORKERS})", f"{min(timings[name]):.2f}", common.num(rates[name]),
         f"{rates[FLOOR] / rates[name]:.2f}x")
        for name in PASSES
    ]  # fmt: skip
    check = "check_signature (ledger verify)"
    rows.append((check, "1 process", f"{single_s:.2f}", common.num(single_rate), f"{rates[FLOOR] / single_rate:.2f}x"))
    print(common.table(["pass", "processes", "best s", "signatures/s", "floor ÷ this"], rows,
                       title=f"Ed25519 verification of {n:,} dataset signatures ({largest.fonds})"))  # fmt: skip
    common.write_result(
        NAME,
        {
            "scale": info.get("scale"),
            "fonds": largest.fonds,
            "signatures": n,
            "keys": len(_KEY_BYTES),
            "altered": altered,
            "workers": WORKERS,
            "rounds": args.rounds,
            "passes": {
                name: {"best_seconds": round(min(ts), 3), "signatures_per_s": round(rates[name])}
                for name, ts in timings.items()
            },
            "single_process_check_signature": {"seconds": round(single_s, 3), "signatures_per_s": round(single_rate)},
            "raw_over_check_signature_ratio": round(rates[FLOOR] / rates[check], 2),
            "raw_over_signing_verify_ratio": round(rates[FLOOR] / rates["signing.verify"], 2),
            "pool_speedup_over_single_process": round(rates[check] / single_rate, 2),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
