"""manage.py selfcheck [--quick] — the start-up self-check, one line per item; exit code 1 on a fatal problem."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.ops import selfcheck


class Command(BaseCommand):
    help = "部署自检：数据库角色、密钥与证书、工作日历、迁移、Django 部署检查；有问题时退出码为 1。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="只做启动时的快速检查（不打开证书、不做部署检查）")

    def handle(self, *args: Any, **options: Any) -> None:
        env = {"production": "生产环境", "development": "开发环境", "test": "测试环境"}.get(settings.JISHI_ENV, "")
        self.stdout.write(f"纪实系统自检（{env}）")
        outcomes = selfcheck.run(quick=options["quick"])
        for o in outcomes:
            if o.skipped:
                self.stdout.write(f"{o.mark} {o.check.title}：跳过（{o.skipped}）")
                continue
            line = f"{o.mark} {o.check.title}"
            style = self.style.SUCCESS if o.mark == "✔" else self.style.ERROR if o.mark == "✘" else self.style.WARNING
            self.stdout.write(style(line))
            for problem in o.problems:
                self.stdout.write(f"    · {problem}")
        fatal = selfcheck.fatal_count(outcomes)
        warnings = sum(len(o.problems) for o in outcomes if o.mark == "⚠")
        if fatal:
            raise CommandError(f"自检未通过：{fatal} 个问题需要处理（见上）。")
        tail = f"，另有 {warnings} 条提醒" if warnings else ""
        self.stdout.write(self.style.SUCCESS(f"自检通过{tail}。"))
