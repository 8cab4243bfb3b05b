"""manage.py archive — 组卷、整理、检查验收、目录、导出归档信息包 from the command line.

Every subcommand runs as the account named by ``--user`` (its permissions apply, the ledger names it).
Signing subcommands read the signing PIN from JISHI_SIGNING_PIN, else ask for it (without echo on a
terminal, one line from standard input otherwise).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.accounts.models import User
from jishi.archives import services
from jishi.archives.acceptance import volume_gaps
from jishi.archives.models import Volume, VolumeStatus
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.selection.models import Batch


class Command(BaseCommand):
    help = "档案：组卷（build）、检查（check）、整理（organize）、验收（accept）、目录（catalogue）、导出（export）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        def with_user(p: CommandParser) -> CommandParser:
            p.add_argument("--user", required=True, help="以该账号身份办理（权限按该账号；台账记其姓名）")
            return p

        build = with_user(sub.add_parser("build", help="为已办结的人选和批次组卷（已归档的不变）"))
        build.add_argument("batch", help="批次编号")
        check = with_user(sub.add_parser("check", help="列出案卷的全部验收问题；没有问题时退出码为 0"))
        check.add_argument("volume", help="案卷编号（如 GR-J001-2026-001-01）")
        organize = with_user(sub.add_parser("organize", help="整理人签字（备考表 整理人）"))
        organize.add_argument("volume")
        organize.add_argument("--notes", default="", help="盒内文件情况说明")
        accept = with_user(sub.add_parser("accept", help="检查人验收签字，分配件号和档号"))
        accept.add_argument("volume")
        catalogue = with_user(sub.add_parser("catalogue", help="归档文件目录（.pdf 或 .xlsx，按扩展名）"))
        catalogue.add_argument("volume")
        catalogue.add_argument("-o", "--output", required=True)
        export = with_user(sub.add_parser("export", help="导出 BagIt 归档信息包（可用 python -m jishi.verify 核验）"))
        export.add_argument("volume", nargs="?", help="案卷编号")
        export.add_argument("--batch", help="导出该批次全部已归档案卷")
        export.add_argument("-o", "--output", required=True, help="输出目录（须不存在或为空）")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except (ApplicationError, PermissionDenied) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc

    def _user(self, options: dict[str, Any]) -> User:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有名为 {options['user']} 的有效账号")
        return user

    def _volume(self, code: str) -> Volume:
        volume = (
            Volume.objects.select_related("org_unit", "batch__procedure", "batch__org_unit", "nomination__cadre")
            .filter(code=code)
            .first()
        )
        if volume is None:
            raise CommandError(f"没有编号为 {code} 的案卷（可先运行 archive build 批次编号）")
        return volume

    def _pin(self) -> str:
        pin = os.environ.get("JISHI_SIGNING_PIN")
        if pin:
            return pin
        if sys.stdin.isatty():
            return getpass.getpass("签名口令（PIN）：")
        return sys.stdin.readline().strip()

    def _build(self, options: dict[str, Any]) -> None:
        batch = Batch.objects.select_related("org_unit", "procedure").filter(number=options["batch"]).first()
        if batch is None:
            raise CommandError(f"没有编号为 {options['batch']} 的批次")
        self.stdout.write(f"正在为批次 {batch.number} 组卷（生成报告表、审批表和笔记本并签章）……")
        for volume in services.volume_build(actor=self._user(options), batch=batch):
            gaps = volume_gaps(volume)
            state = "可以整理" if not gaps else f"有 {len(gaps)} 处问题，运行 archive check {volume.code} 查看"
            self.stdout.write(f"  {volume.code}  {volume.title}  {volume.items.count()} 件  — {state}")

    def _check(self, options: dict[str, Any]) -> None:
        volume = self._volume(options["volume"])
        from jishi.accounts import permissions as perms

        perms.require(perms.can_view_archive(self._user(options), volume.org_unit), "您无权查看该案卷。")
        gaps = volume_gaps(volume)
        self.stdout.write(f"{volume.code}（{volume.get_status_display()}）：{volume.items.count()} 件")
        for gap in gaps:
            self.stdout.write(f"  ✘ {gap.label}：{gap.where} — {gap.message}")
        if gaps:
            raise CommandError(f"验收未通过：{len(gaps)} 处问题")
        self.stdout.write("  ✔ 没有发现问题")

    def _organize(self, options: dict[str, Any]) -> None:
        volume = services.volume_organize(
            actor=self._user(options), volume=self._volume(options["volume"]), pin=self._pin(), notes=options["notes"]
        )
        self.stdout.write(f"{volume.code} 已整理（整理人签字，台账 {volume.org_unit.code}#{volume.organize_event}）")

    def _accept(self, options: dict[str, Any]) -> None:
        volume = services.volume_accept(
            actor=self._user(options), volume=self._volume(options["volume"]), pin=self._pin()
        )
        codes = list(volume.items.order_by("code").values_list("code", flat=True))
        where = f"{volume.org_unit.code}#{volume.accept_event}"
        self.stdout.write(f"{volume.code} 已验收归档（检查人签字，台账 {where}）：{len(codes)} 件")
        for code in codes:
            self.stdout.write(f"  {code}")

    def _catalogue(self, options: dict[str, Any]) -> None:
        volume = self._volume(options["volume"])
        from jishi.archives.services_documents import catalogue_export

        out = Path(options["output"])
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in ("pdf", "xlsx"):
            raise CommandError("目录文件的扩展名应为 .pdf 或 .xlsx")
        content = catalogue_export(actor=self._user(options), volume=volume, fmt=fmt)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, out)
        self.stdout.write(f"已写入 {out}")

    def _export(self, options: dict[str, Any]) -> None:
        if bool(options["volume"]) == bool(options["batch"]):
            raise CommandError("请给出一个案卷编号，或用 --batch 给出批次编号（二选一）")
        if options["batch"]:
            volumes = list(
                Volume.objects.filter(batch__number=options["batch"], status=VolumeStatus.ARCHIVED)
                .select_related("org_unit", "batch", "nomination__cadre")
                .order_by("kind", "code")
            )
            if not volumes:
                raise CommandError(f"批次 {options['batch']} 没有已验收归档的案卷")
        else:
            volumes = [self._volume(options["volume"])]
        self.stdout.write(f"正在导出 {len(volumes)} 个案卷……")
        result = services.volume_export(actor=self._user(options), volumes=volumes, out=Path(options["output"]))
        self.stdout.write(
            f"已导出到 {result['path']}：{result['files']} 个文件，清单摘要 {result['manifest_sha256'][:16]}…\n"
            f"核验：python -m jishi.verify {result['path']}"
        )
