"""manage.py documents — every generated document from the command line, for batch jobs and checks.

Every subcommand that reads or changes personal data runs as the account named by ``--user``: its
permissions apply and the ledger names that person, exactly as when they click in the web UI.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.accounts.models import OrgUnit, User
from jishi.cadres.models import Cadre
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.selection.models import Batch, Nomination


def _write(path: str, content: bytes) -> Path:
    out = Path(path)
    if out.is_dir():
        raise CommandError(f"{out} 是一个目录，请给出文件名")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, out)  # a half-written file never carries the final name
    return out


class Command(BaseCommand):
    help = "纪实文书：全程纪实报告表、干部任免审批表、LRMX 导入导出、台账 Excel、纪实笔记本、签章证书。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        def with_user(p: CommandParser) -> CommandParser:
            p.add_argument("--user", required=True, help="以该账号身份办理（权限按该账号；台账记其姓名）")
            return p

        report = with_user(sub.add_parser("report-form", help="全程纪实报告表（签章 PDF）"))
        report.add_argument("nomination", nargs="?", help="纪实表编号（如 J001-2026-001-01）")
        report.add_argument("-o", "--output", required=True, help="输出文件；与 --batch 同用时为输出目录")
        report.add_argument("--batch", help="为该批次全部人选各生成一份")
        approval = with_user(sub.add_parser("approval-form", help="干部任免审批表（PDF）"))
        approval.add_argument("nomination", help="纪实表编号")
        approval.add_argument("-o", "--output", required=True)
        lrmx_out = with_user(sub.add_parser("lrmx-export", help="导出干部的任免审批表 LRMX 文件"))
        lrmx_out.add_argument("cadre", help="干部编号（数字）或纪实表编号（含拟任职务）")
        lrmx_out.add_argument("-o", "--output", required=True)
        lrmx_in = with_user(sub.add_parser("lrmx-import", help="导入 LRMX 文件，先列出逐项差异"))
        lrmx_in.add_argument("file")
        lrmx_in.add_argument("--unit", required=True, help="导入到哪个组织部门（全宗号，如 J001）")
        lrmx_in.add_argument("--dry-run", action="store_true", help="只列出差异，不作任何修改")
        lrmx_in.add_argument("--yes", action="store_true", help="不再询问，直接按所列差异导入")
        lrmx_in.add_argument("--rank", default="", help="新建干部时：现任职级代码（如 county_deputy）")
        lrmx_in.add_argument("--post-since", default="", help="新建干部时：任现职时间 YYYY-MM（默认取简历最后一段）")
        lrmx_in.add_argument("--rank-since", default="", help="新建干部时：任现职级时间 YYYY-MM（默认同任现职时间）")
        xlsx = with_user(sub.add_parser("ledger-xlsx", help="干部任用台账（Excel）"))
        xlsx.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, help="起始日期 YYYY-MM-DD")
        xlsx.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, help="截止日期 YYYY-MM-DD")
        xlsx.add_argument("--unit", help="只含该组织部门（全宗号）")
        xlsx.add_argument("--include-dropped", action="store_true", help="包含已退出的人选")
        xlsx.add_argument("-o", "--output", required=True)
        notebook = with_user(sub.add_parser("notebook", help="批次的纪实专用笔记本（PDF）"))
        notebook.add_argument("batch", help="批次编号")
        notebook.add_argument("-o", "--output", required=True)
        cert = sub.add_parser("cert-create", help="为组织部门生成自签名文书签章证书（演示或封闭内网）")
        cert.add_argument("--fonds", required=True)
        cert.add_argument("--replace", action="store_true", help="替换已有证书（旧文件的签章仍可用旧证书核验）")
        cert.add_argument("--if-missing", action="store_true", help="已有证书时什么也不做")
        imp = sub.add_parser("cert-import", help="安装 CA 签发的单位证书（PKCS#12）；口令从标准输入读取")
        imp.add_argument("--fonds", required=True)
        imp.add_argument("file")
        check = sub.add_parser("verify-pdf", help="核验 PDF 的电子签章；有效时退出码为 0")
        check.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"_{action}")(options)
        except (ApplicationError, PermissionDenied) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc

    # Lookups ----------------------------------------------------------------------------------------

    def _user(self, options: dict[str, Any]) -> User:
        username = options["user"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有名为 {username} 的有效账号")
        return user

    def _nomination(self, number: str) -> Nomination:
        nomination = (
            Nomination.objects.select_related("batch__org_unit", "batch__procedure", "cadre", "position")
            .filter(number=number)
            .first()
        )
        if nomination is None:
            raise CommandError(f"没有纪实表编号为 {number} 的人选")
        return nomination

    def _batch(self, number: str) -> Batch:
        batch = Batch.objects.select_related("org_unit", "procedure").filter(number=number).first()
        if batch is None:
            raise CommandError(f"没有编号为 {number} 的调整批次")
        return batch

    def _unit(self, code: str) -> OrgUnit:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            raise CommandError(f"没有全宗号为 {code} 的组织部门")
        return unit

    def _done(self, path: Path, what: str, sha256: str = "") -> None:
        suffix = f"（SHA-256 {sha256[:16]}…）" if sha256 else ""
        self.stdout.write(self.style.SUCCESS(f"已生成{what}：{path}{suffix}"))

    # Generated documents ----------------------------------------------------------------------------

    def _report_form(self, options: dict[str, Any]) -> None:
        from jishi.documents.services import report_form_generate

        actor = self._user(options)
        if options["batch"]:
            batch = self._batch(options["batch"])
            out = Path(options["output"])
            out.mkdir(parents=True, exist_ok=True)
            nominations = list(batch.nominations.select_related("cadre", "position").order_by("id"))
            for index, nomination in enumerate(nominations, 1):
                document = report_form_generate(actor=actor, nomination=nomination)
                path = _write(str(out / document.filename), document.content)
                self.stdout.write(f"[{index}/{len(nominations)}] {nomination.cadre.name} → {path}")
            self.stdout.write(self.style.SUCCESS(f"已为批次 {batch.number} 生成 {len(nominations)} 份报告表"))
            return
        if not options["nomination"]:
            raise CommandError("请给出纪实表编号，或用 --batch 指定批次")
        document = report_form_generate(actor=actor, nomination=self._nomination(options["nomination"]))
        self._done(_write(options["output"], document.content), "全程纪实报告表", document.sha256)

    def _approval_form(self, options: dict[str, Any]) -> None:
        from jishi.documents.services import approval_form_generate

        nomination = self._nomination(options["nomination"])
        document = approval_form_generate(actor=self._user(options), cadre=nomination.cadre, nomination=nomination)
        self._done(_write(options["output"], document.content), "干部任免审批表", document.sha256)

    def _lrmx_export(self, options: dict[str, Any]) -> None:
        from jishi.cadres.services import cadre_lrmx_export

        key = options["cadre"]
        nomination = None
        if key.isdigit():
            cadre = Cadre.objects.filter(pk=int(key)).first()
            if cadre is None:
                raise CommandError(f"没有编号为 {key} 的干部")
        else:
            nomination = self._nomination(key)
            cadre = nomination.cadre
        content = cadre_lrmx_export(actor=self._user(options), cadre=cadre, nomination=nomination)
        self._done(_write(options["output"], content), f"{cadre.name} 的 LRMX 文件")

    def _lrmx_import(self, options: dict[str, Any]) -> None:
        from django.conf import settings

        from jishi.cadres.services import cadre_lrmx_import, cadre_lrmx_preview

        actor = self._user(options)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        if path.stat().st_size > settings.LRMX_MAX_BYTES:
            raise CommandError(f"文件超过 {settings.LRMX_MAX_BYTES // (1024 * 1024)} MB 的上限，未导入。")
        data = path.read_bytes()
        unit = self._unit(options["unit"])
        preview = cadre_lrmx_preview(actor=actor, org_unit=unit, data=data)
        target = f"更新 {preview.cadre.name}" if preview.cadre else f"新建干部 {preview.form.name}"
        self.stdout.write(f"{path.name}：{target}，{len(preview.changes)} 项差异")
        for change in preview.changes:
            self.stdout.write(f"  {change.label}：{change.old or '（空）'} → {change.new or '（空）'}")
        if options["dry_run"]:
            self.stdout.write("（--dry-run：未作任何修改）")
            return
        if not preview.changes:
            self.stdout.write("没有差异，无需导入。")
            return
        if not options["yes"]:
            answer = input("按上列差异导入？输入 yes 确认：") if self.stdin_is_tty() else ""
            if answer.strip().lower() != "yes":
                raise CommandError("未确认，未作任何修改（非交互运行请加 --yes）")
        cadre = cadre_lrmx_import(
            actor=actor,
            org_unit=unit,
            data=data,
            confirm_sha256=preview.sha256,
            current_rank=options["rank"],
            current_post_since=options["post_since"],
            current_rank_since=options["rank_since"],
        )
        self.stdout.write(self.style.SUCCESS(f"已导入：{cadre.name}（干部编号 {cadre.pk}）"))

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin.isatty()

    def _ledger_xlsx(self, options: dict[str, Any]) -> None:
        from jishi.documents.register import register_rows
        from jishi.documents.services_exports import register_export

        actor = self._user(options)
        unit = self._unit(options["unit"]) if options["unit"] else None
        register = register_rows(
            user=actor,
            date_from=options["date_from"],
            date_to=options["date_to"],
            org_unit_id=unit.pk if unit else None,
            include_dropped=options["include_dropped"],
        )
        content = register_export(actor=actor, register=register)
        self._done(_write(options["output"], content), f"干部任用台账（{len(register.rows)} 人）")

    def _notebook(self, options: dict[str, Any]) -> None:
        from jishi.documents.services_exports import notebook_export

        batch = self._batch(options["batch"])
        content = notebook_export(actor=self._user(options), batch=batch)
        self._done(_write(options["output"], content), "纪实专用笔记本")

    # Certificates -----------------------------------------------------------------------------------

    def _cert_create(self, options: dict[str, Any]) -> None:
        from jishi.documents import pades

        unit = self._unit(options["fonds"])
        if options["if_missing"] and pades.cert_path(unit.code).exists():
            self.stdout.write(f"{unit.name} 已有文书签章证书，未改动。")
            return
        cert = pades.certificate_create(
            fonds=unit.code, unit_name=unit.short_name or unit.name, replace=options["replace"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已为 {unit.name} 生成自签名文书签章证书（有效期至 {cert.not_valid_after_utc:%Y-%m-%d}）："
                f"{pades.cert_path(unit.code)}"
            )
        )

    def _cert_import(self, options: dict[str, Any]) -> None:
        from jishi.documents import pades

        unit = self._unit(options["fonds"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        passphrase = getpass.getpass("证书口令：") if self.stdin_is_tty() else input()
        cert = pades.certificate_import(fonds=unit.code, data=path.read_bytes(), passphrase=passphrase.encode())
        self.stdout.write(self.style.SUCCESS(f"已安装 {unit.name} 的文书签章证书：{cert.subject.rfc4514_string()}"))

    def _verify_pdf(self, options: dict[str, Any]) -> None:
        from jishi.documents import pades

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        check = pades.check_pdf(path.read_bytes())
        line = f"{path.name}：{check.message}" + (f"（签章人：{check.signer}）" if check.signer else "")
        if not check.ok:
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))
