"""manage.py ledger verify [--fonds CODE] [--witness FILE ...] | checkpoint [--fonds CODE] [--export FILE]."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from jishi.ledger import selectors, services
from jishi.ledger.dbroles import app_role_grants
from jishi.ledger.export import export_ledger
from jishi.ledger.models import Chain
from jishi.ledger.verify import Witness


class Command(BaseCommand):
    help = "纪实台账：核验哈希链、签名、检查点和材料文件；生成（并导出）签名检查点。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="核验全部（或指定全宗的）台账；全部无误时退出码为 0")
        verify.add_argument("--fonds", help="只核验这个全宗")
        verify.add_argument("--witness", action="append", default=[], help="外部保存的检查点文件（可多次给出）")
        verify.add_argument("--skip-files", action="store_true", help="不核验材料文件")
        checkpoint = sub.add_parser("checkpoint", help="为每条链（或指定全宗）生成签名检查点")
        checkpoint.add_argument("--fonds", help="只为这个全宗生成")
        checkpoint.add_argument("--export", help="把检查点写成文本文件，交纪委或上级组织部门保存")
        export = sub.add_parser("export", help="导出台账（事件、签名、检查点，可含材料文件），供离线核验")
        export.add_argument("directory")
        export.add_argument("--with-materials", action="store_true", help="同时复制台账引用的材料文件")
        grants = sub.add_parser(
            "grant-app-role", help="（PostgreSQL，以属主身份运行）授予应用角色所需权限，台账表不可改删"
        )
        grants.add_argument("role")
        grants.add_argument("--print", action="store_true", help="只打印 SQL，不执行")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options)
        elif options["action"] == "export":
            self._export(options)
        elif options["action"] == "grant-app-role":
            self._grant(options)
        else:
            self._checkpoint(options)

    def _export(self, options: dict[str, Any]) -> None:
        out = Path(options["directory"])
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"目录 {out} 不是空的；请指定一个新目录")
        out.mkdir(parents=True, exist_ok=True)
        chains = self._chains(None)
        manifest = export_ledger(out, chains, with_materials=options["with_materials"])
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出 {len(manifest['chains'])} 条链到 {out}；离线核验：python -m jishi.ledger.verify {out}"
            )
        )

    def _grant(self, options: dict[str, Any]) -> None:
        try:
            statements = app_role_grants(options["role"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["print"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError("应用角色只用于 PostgreSQL；SQLite 由触发器保护台账。")
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        self.stdout.write(self.style.SUCCESS(f"已授予 {options['role']} 应用权限；台账表只能读取和追加。"))

    def _chains(self, fonds: str | None) -> list[Chain]:
        chains = list(Chain.objects.order_by("fonds"))
        if fonds:
            chains = [c for c in chains if c.fonds == fonds]
            if not chains:
                raise CommandError(f"没有全宗号为 {fonds} 的台账")
        return chains

    def _verify(self, options: dict[str, Any]) -> None:
        witnesses: dict[str, list[Witness]] = {}
        for name in options["witness"]:
            try:
                w = Witness.from_text(Path(name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise CommandError(f"无法读取见证检查点 {name}：{exc}") from exc
            witnesses.setdefault(w.fonds, []).append(w)
        chains = self._chains(options["fonds"])
        unknown = set(witnesses) - {c.fonds for c in Chain.objects.all()}
        if unknown:
            raise CommandError(f"见证检查点所属全宗 {', '.join(sorted(unknown))} 的台账不存在：整条链已被删除")
        self.stdout.write("第一遍：从创世事件和密钥登记事件读取公钥 …")
        keys = selectors.registry()
        total = sum(c.seq for c in chains)
        done = 0
        for chain in chains:

            def progress(seq: int, base: int = done) -> None:
                self._progress(base + seq, total)

            problem = selectors.chain_verify(
                chain,
                keys=keys,
                witnesses=tuple(witnesses.get(chain.fonds, ())),
                check_files=not options["skip_files"],
                progress=progress,
            )
            done += chain.seq
            self._progress(done, total)
            if problem:
                sys.stdout.flush()
                self.stdout.write("")
                self.stderr.write(self.style.ERROR(f"核验未通过：{problem}"))
                raise CommandError(f"台账核验未通过（全宗 {problem.fonds}，第 {problem.seq} 号事件）", returncode=2)
            self.stdout.write(
                f"\n全宗 {chain.fonds}：{chain.seq} 个事件，哈希链、签名、检查点"
                f"{'、见证' if chain.fonds in witnesses else ''}均无误（算法 {chain.algorithm}）"
            )
        self.stdout.write(self.style.SUCCESS(f"核验通过：{len(chains)} 条链，共 {total} 个事件。"))

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()

    def _checkpoint(self, options: dict[str, Any]) -> None:
        export = options["export"]
        chains = self._chains(options["fonds"])
        if export and len(chains) != 1:
            raise CommandError("导出检查点时请用 --fonds 指定一个全宗")
        for chain in chains:
            with transaction.atomic():
                locked = Chain.objects.select_for_update().get(pk=chain.pk)
                checkpoint = services.checkpoint_create(chain=locked)
            self.stdout.write(f"全宗 {chain.fonds}：检查点 树大小 {checkpoint.tree_size}，根 {checkpoint.root[:16]}…")
            if export:
                Path(export).write_text(selectors.witness_for(checkpoint).to_text(), encoding="utf-8")
                self.stdout.write(self.style.SUCCESS(f"已导出到 {export}，请交外部单位保存。"))
