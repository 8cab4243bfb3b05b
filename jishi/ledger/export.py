"""Write a ledger export package: manifest.json, <fonds>.events/signatures/checkpoints.jsonl, materials/."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

from django.utils import timezone

from jishi.core import storage

from . import selectors
from .models import Chain
from .verify import EXPORT_FORMAT


def _write(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(dataclasses.asdict(row), ensure_ascii=False) + "\n")


def export_ledger(out: Path, chains: list[Chain], *, with_materials: bool = False) -> dict[str, Any]:
    manifest: dict[str, Any] = {"format": EXPORT_FORMAT, "created": timezone.now().isoformat(), "chains": {}}
    materials = out / "materials"
    for chain in chains:
        _write(out / f"{chain.fonds}.events.jsonl", selectors.chain_rows(chain))
        _write(out / f"{chain.fonds}.signatures.jsonl", selectors.signature_rows(chain))
        _write(out / f"{chain.fonds}.checkpoints.jsonl", selectors.checkpoint_rows(chain))
        manifest["chains"][chain.fonds] = {"algorithm": chain.algorithm, "seq": chain.seq, "head": chain.head_hash}
        if with_materials:
            materials.mkdir(exist_ok=True)
            for row in selectors.chain_rows(chain):
                if row.action == "material.register":
                    sha = json.loads(row.payload).get("sha256")
                    if sha and storage.exists(sha):
                        with storage.open_material(sha) as src, (materials / sha).open("wb") as dst:
                            shutil.copyfileobj(src, dst)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest
