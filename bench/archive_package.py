"""Export and offline verification of a batch's archive package, against raw sha256 of the same bytes.

Builds a scratch SQLite database in a temporary directory, walks one batch with one person to the end with
``--materials`` PDF files of ``--size-kib`` each registered at K12 (考察材料) — 1,000 × 200 KiB = 200 MB by default,
10 × 200 KiB under ``BENCH_QUICK=1`` — files both volumes (build, organize, accept), then times:

- ``archive export`` (copying files, catalogue PDF/XLSX, metadata.xml, ledger with inclusion proofs, BagIt
  manifests) in MB/s of payload;
- ``jishi.verify.verify_package`` (the whole 四性检测: every manifest digest, metadata, proofs, signatures,
  formats — PDFs are parsed) in MB/s;
- raw ``hashlib.sha256`` over the same payload files, read in 1 MiB chunks, in the same run.

Run: ``python -m bench.archive_package [--materials N] [--size-kib K]``; results in ``var/bench/archive_package.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/archive_package.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "archive_package"


def pdf_bytes(index: int, size: int) -> bytes:
    """A valid one-page PDF padded to ``size`` bytes with an incompressible stream (unique per index)."""
    filler = os.urandom(max(0, size - 600))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(filler) + filler + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n% material " + str(index).encode() + b"\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def setup(var: Path) -> None:
    os.environ.update(
        {
            "JISHI_VAR_DIR": str(var),
            "DJANGO_SETTINGS_MODULE": "jishi.settings",
            "JISHI_SIGNING_SCRYPT_N_LOG2": "10",
            "JISHI_ARCHIVE_AUTO_BUILD": "false",
            "JISHI_MATERIAL_MAX_BYTES": str(64 * 1024 * 1024),
        }
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(materials: int, size: int) -> tuple[Any, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from jishi.archives import services
    from jishi.core.testing import SIGNING_PIN, build_world
    from jishi.documents.pades import certificate_create
    from jishi.selection import services as sel
    from jishi.selection.walk import sample_values, walk

    world = build_world()
    certificate_create(fonds="J001", unit_name="内江市委组织部")
    batch = sel.batch_create(actor=world.alice, org_unit=world.city, title="基准批次", positions=world.positions[:1])
    sel.nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[0], position=world.positions[0])
    nomination = batch.nominations.get()
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "K12")
    step = batch.procedure.definition.step("K12")
    record = sel.step_start(actor=world.alice, batch=batch, step_id="K12", nomination=nomination)
    if step.fields:
        record = sel.step_save(actor=world.alice, record=record, data=sample_values(step, timezone.localdate()))
    t0 = time.perf_counter()
    for i in range(materials):
        upload = SimpleUploadedFile(f"考察材料{i:04d}.pdf", pdf_bytes(i, size), content_type="application/pdf")
        title = f"考察材料 第{i + 1}份"
        sel.material_register(actor=world.alice, record=record, item_id="I25", title=title, upload=upload)
        if (i + 1) % 100 == 0:
            print(f"  registered {i + 1}/{materials} materials", flush=True)
    register_s = time.perf_counter() - t0
    record.refresh_from_db()
    signers = world.signers()
    for role in step.signer_roles:
        sel.step_confirm(actor=signers[role], record=record, role=role, pin=SIGNING_PIN)
    sel.step_complete(actor=world.alice, record=record)
    walk(batch=batch, actor=world.alice, signers=signers, pin=SIGNING_PIN)
    t0 = time.perf_counter()
    volumes = services.volume_build(actor=world.frank, batch=batch)
    build_s = time.perf_counter() - t0
    for volume in volumes:
        volume = services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN)
        services.volume_accept(actor=world.bob, volume=volume, pin=SIGNING_PIN)
    print(f"  registered in {register_s:.1f} s, volumes built in {build_s:.1f} s", flush=True)
    return world, batch


def raw_sha256(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):  # type: ignore[misc]
                digest.update(chunk)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--materials", type=common.positive_int, default=common.default_size("BENCH_MATERIALS", 1000))
    parser.add_argument("--size-kib", type=common.positive_int, default=200)
    args = parser.parse_args()
    results_var = os.environ.get("JISHI_VAR_DIR")  # the scratch run below points JISHI_VAR_DIR elsewhere
    with tempfile.TemporaryDirectory(prefix="jishi-bench-archive-") as tmp:
        setup(Path(tmp) / "var")
        print(f"building a batch with {args.materials} materials of {args.size_kib} KiB …", flush=True)
        world, batch = build(args.materials, args.size_kib * 1024)
        from jishi.archives import services
        from jishi.archives.models import Volume
        from jishi.verify import verify_package

        out = Path(tmp) / "package"
        volumes = list(Volume.objects.filter(batch=batch).order_by("kind"))
        t0 = time.perf_counter()
        services.volume_export(actor=world.frank, volumes=volumes, out=out)
        export_s = time.perf_counter() - t0
        payload = [p for p in (out / "data").rglob("*") if p.is_file()]
        mb = sum(p.stat().st_size for p in payload) / 1e6
        t0 = time.perf_counter()
        report = verify_package(str(out))
        verify_s = time.perf_counter() - t0
        raw_s = raw_sha256(payload)
        result = {
            "materials": args.materials,
            "payload_files": len(payload),
            "payload_mb": round(mb, 1),
            "export": {"seconds": round(export_s, 2), "mb_per_s": round(mb / export_s, 1)},
            "verify": {"seconds": round(verify_s, 2), "mb_per_s": round(mb / verify_s, 1), "passed": report.passed},
            "raw_sha256": {"seconds": round(raw_s, 3), "mb_per_s": round(mb / raw_s, 1)},
            "raw_over_export_ratio": round(export_s / raw_s, 1),
            "raw_over_verify_ratio": round(verify_s / raw_s, 1),
            "peak_rss_mib": round(common.peak_rss_mib(), 1),
        }
    print(
        common.table(
            ["pass", "seconds", "MB/s"],
            [
                ("archive export", f"{export_s:.2f}", f"{mb / export_s:.1f}"),
                ("verify (四性检测)", f"{verify_s:.2f}", f"{mb / verify_s:.1f}"),
                ("raw sha256", f"{raw_s:.3f}", f"{mb / raw_s:.1f}"),
            ],
            title=f"{args.materials} materials, {len(payload)} payload files, {mb:.1f} MB",
        )
    )
    if results_var is None:
        os.environ.pop("JISHI_VAR_DIR", None)
    else:
        os.environ["JISHI_VAR_DIR"] = results_var
    common.write_result(NAME, result)
    if not report.passed:
        print(report.to_text())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
