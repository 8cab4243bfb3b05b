"""``manage.py restore DIR``: bring a backup (``jishi.ops.backup``) back into an empty installation.

Everything that can refuse does so before the first write: the files against the manifest, the database
vendor, an empty target database and material store, and the passphrase (the key archive is decrypted in
memory). Then the database, the materials and the keys are written, and the restored ledger is verified in
full — hash chains, signatures, checkpoints, material files — against the witness checkpoints signed at
backup time and the chain heads of the manifest, so a restore that lost or changed anything says so.

Run it with the service stopped, as the owner role on PostgreSQL. Key files that a fresh installation
generated (development secrets, certificates) are replaced by the backup's; the replaced ones are kept
beside them as ``<name>.before-restore-<time>``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jishi.core import storage
from jishi.ledger import selectors
from jishi.ledger.models import Chain
from jishi.ledger.verify import Witness

from . import backup_db, backup_files, backup_keys


def check(directory: Path, stdout: OutputWrapper) -> dict[str, Any]:
    """Refusals that need no passphrase: a changed backup, the wrong database vendor, a non-empty target."""
    manifest = backup_files.read_manifest(directory)
    stdout.write(
        f"备份：Jishi {manifest.get('jishi_version')}，{manifest['database']['vendor']} 数据库，"
        f"{manifest.get('created_at')}，{len(manifest.get('chains', []))} 条链，{len(manifest['files'])} 个文件"
    )

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            stdout.write(f"\r校验备份文件 {done}/{total}", ending="\n" if done == total else "")
            stdout.flush()

    backup_files.check_files(directory, manifest, progress)
    stdout.write("备份文件与清单一致。")
    for name in _materials(manifest):
        if not backup_files.is_material(name.removeprefix("materials/")):
            raise CommandError(f"清单中的材料文件名 {name} 不合法：未恢复任何内容。")
    if manifest["database"]["vendor"] != connection.vendor:
        raise CommandError(
            f"备份来自 {manifest['database']['vendor']} 数据库，本机配置的是 {connection.vendor}："
            "请配置同类数据库（PostgreSQL 用 DATABASE_URL）后再恢复。"
        )
    if manifest.get("jishi_version") != backup_files.jishi_version():
        stdout.write(f"注意：备份来自 Jishi {manifest.get('jishi_version')}，本机是 {backup_files.jishi_version()}。")
    tables = sorted(backup_db.nonempty_tables(), key=lambda t: (not t.startswith("ledger_"), t))
    if tables:
        raise CommandError(
            f"目标数据库不是空的（{len(tables)} 个表中有数据，如 {', '.join(tables[:4])}）："
            "恢复只写入全新的空数据库，未做任何改动。"
        )
    root = storage.local_root()
    if root is not None and next(backup_files.material_files(root), None) is not None:
        raise CommandError(f"材料目录 {root} 中已有材料文件：恢复只写入空的材料存储，未做任何改动。")
    if root is None and _materials(manifest) and storage.material_storage().listdir("")[0]:
        raise CommandError("对象存储中已有材料文件：恢复只写入空的材料存储，未做任何改动。")
    return manifest


def _materials(manifest: dict[str, Any]) -> list[str]:
    return sorted(name for name in manifest["files"] if name.startswith("materials/"))


def run(directory: Path, manifest: dict[str, Any], phrase: str, stdout: OutputWrapper) -> None:
    """Decrypt the keys (a wrong passphrase writes nothing), then restore database, materials and keys."""
    members = backup_keys.unseal((directory / manifest["keys"]["file"]).read_bytes(), phrase)
    stdout.write(f"密钥包已解密：{len(members)} 个条目。")

    stdout.write(f"恢复数据库（{connection.vendor}）…")
    backup_db.restore(directory / manifest["database"]["file"])
    stdout.write("数据库已恢复。")

    names = _materials(manifest)
    root = storage.local_root() or Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    for done, name in enumerate(names, start=1):
        relative = name.removeprefix("materials/")
        tmp = root / f".restore-{relative.split('/')[1]}"
        backup_files.copy_hashing(directory / name, tmp)
        storage.put(relative.split("/")[1], tmp)
        if done % 100 == 0 or done == len(names):
            stdout.write(f"\r材料文件 {done}/{len(names)}", ending="\n" if done == len(names) else "")
            stdout.flush()
    stdout.write(f"材料文件已恢复：{len(names)} 个。")
    if not manifest["materials"].get("included", True):
        stdout.write(f"注意：{manifest['materials'].get('note', '材料文件不在本备份内。')}")

    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    notes = backup_keys.install(members, Path(settings.VAR_DIR) / "secrets", Path(settings.DOCUMENT_CERT_DIR), stamp)
    stdout.write(f"密钥和证书已写入 {Path(settings.VAR_DIR) / 'secrets'} 与 {settings.DOCUMENT_CERT_DIR}。")
    for note in notes:
        stdout.write(note)
    if connection.vendor == "postgresql":
        stdout.write(
            "PostgreSQL：恢复的表归当前用户所有；请以属主身份运行 python manage.py ledger grant-app-role <应用角色>。"
        )


def _witness(directory: Path, name: str | None) -> tuple[Witness, ...]:
    if not name:
        return ()
    try:
        return (Witness.from_text((directory / name).read_text(encoding="utf-8")),)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"无法读取见证检查点 {name}：{exc}", returncode=2) from exc


def verify(directory: Path, manifest: dict[str, Any], stdout: OutputWrapper) -> None:
    """Full ledger verification of the restored database; CommandError (exit 2) on the first break."""
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    witness_args = " ".join(f"--witness {directory / h['witness']}" for h in manifest["chains"] if h.get("witness"))
    if pending:
        raise CommandError(
            f"数据已恢复，但备份来自较早的版本，尚有 {len(pending)} 个数据库迁移未执行"
            f"（{', '.join(f'{m.app_label}.{m.name}' for m, _ in pending[:3])}）：请运行 python manage.py "
            f"migrate，再运行 python manage.py ledger verify {witness_args}",
            returncode=3,
        )
    chains = list(Chain.objects.order_by("fonds"))
    expected = {h["fonds"]: h for h in manifest["chains"]}
    found = {c.fonds: (c.seq, c.head_hash) for c in chains}
    if found != {f: (h["seq"], h["head_hash"]) for f, h in expected.items()}:
        raise CommandError(
            f"恢复后的链头与备份清单不符（清单 {len(expected)} 条链，数据库 {len(found)} 条，或序号、哈希不同）。",
            returncode=2,
        )
    stdout.write("第一遍：从创世事件和密钥登记事件读取公钥 …")
    keys = selectors.registry()
    for chain in chains:
        witnesses = _witness(directory, expected[chain.fonds].get("witness"))

        shown: list[int] = []

        def progress(seq: int, chain: Chain = chain, shown: list[int] = shown) -> None:
            stdout.write(f"\r全宗 {chain.fonds}：已核验 {seq}/{chain.seq}", ending="")
            stdout.flush()
            shown.append(seq)

        problem = selectors.chain_verify(chain, keys=keys, witnesses=witnesses, progress=progress)
        if shown:
            stdout.write("")  # end the progress line
        if problem:
            raise CommandError(f"恢复后的台账核验未通过：{problem}", returncode=2)
        stdout.write(
            f"全宗 {chain.fonds}：{chain.seq} 个事件，哈希链、签名、检查点、材料文件"
            f"{'、见证检查点' if witnesses else ''}均无误，链头与备份一致。"
        )
    stdout.write(f"核验通过：{len(chains)} 条链，共 {sum(c.seq for c in chains)} 个事件。")
