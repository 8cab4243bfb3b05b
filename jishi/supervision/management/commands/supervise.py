"""manage.py supervise — the periodic, idempotent scan of every batch against the supervision rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jishi.supervision.checks import scan


class Command(BaseCommand):
    help = "巡检全部调整批次：按流程定义中的预警规则检查期限和各项条件，发出新预警、消除已纠正的预警（可重复运行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, help="按指定日期检查（YYYY-MM-DD，用于核对）")
        parser.add_argument("--quiet", action="store_true", help="只输出汇总")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = None if options["quiet"] else (lambda line: self.stdout.write(line))
        report = scan(today=options["today"], progress=progress)
        for warning in report.raised:
            self.stdout.write(f"  新预警 {warning.rule_code}【{warning.get_severity_display()}】{warning.message}")
        if report.calendar_notices:
            self.stdout.write(f"  已提醒系统管理员录入节假日安排（{report.calendar_notices} 人）")
        for warning in report.resolved:
            self.stdout.write(f"  已消除 {warning.rule_code} {warning.message[:60]}")
        self.stdout.write(
            self.style.SUCCESS(
                f"巡检完成：{report.batches} 个批次，检查规则 {report.evaluated} 次，"
                f"新预警 {len(report.raised)} 条，消除 {len(report.resolved)} 条。"
            )
        )
