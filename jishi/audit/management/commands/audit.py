"""安全审计 on the command line: ``audit search`` (an auditor's search) and ``audit archive`` (retention).

    manage.py audit search --user nj_auditor --event login --outcome failure --start 2026-05-01
    manage.py audit archive --before 2025-06-01 -o /var/backups/jishi/audit-2025-05.jsonl

``archive`` writes every record older than ``--before`` to a JSONL file (one record a line) with a
SHA-256 sidecar (``FILE.sha256``, ``sha256sum -c`` format), then deletes exactly those records. It refuses a
``--before`` inside the online retention (JISHI_AUDIT_RETENTION_DAYS, at least 184 days), so it never asks
the database to delete a record the trigger protects; the trigger would refuse anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from jishi.accounts import admin_permissions as ap
from jishi.accounts.models import User
from jishi.audit import selectors
from jishi.audit.checks import retention_days
from jishi.audit.models import MIN_RETENTION_DAYS, AuditRecord, Outcome
from jishi.audit.services import audit_record

DELETE_CHUNK = 500
FIELDS = [f.attname for f in AuditRecord._meta.concrete_fields]


def record_json(record: AuditRecord) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(record, name)
        data[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return data


class Command(BaseCommand):
    help = "安全审计：查询（search，须为安全审计员）与归档（archive，将超过保存期的记录导出到文件后删除）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        search = sub.add_parser("search", help="查询安全审计记录（与审计页面相同的条件）")
        search.add_argument("--user", required=True, help="安全审计员的用户名（本次查询记入审计）")
        for name in ("start", "end", "username", "event", "outcome", "ip", "object-type", "object-id"):
            search.add_argument(f"--{name}", default="")
        search.add_argument("--limit", type=int, default=selectors.PER_PAGE)
        archive = sub.add_parser("archive", help="归档并删除早于 --before 的记录（须超过保存期）")
        archive.add_argument("--before", required=True, help="YYYY-MM-DD：归档此日零时（本地时间）之前的记录")
        archive.add_argument("-o", "--output", required=True, help="JSONL 文件（不得已存在）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "search":
            self._search(options)
        else:
            self._archive(options)

    # search ------------------------------------------------------------------------------------------

    def _search(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None or not ap.can_read_audit(user):
            raise CommandError(f"{options['user']} 不是启用中的安全审计员，不能查询安全审计记录。")
        raw = {k.replace("-", "_"): options[k.replace("-", "_")] for k in ("start", "end", "username", "event")}
        raw |= {k: options[k] for k in ("outcome", "ip", "object_type", "object_id")}
        filters, errors = selectors.filters_parse(raw)
        detail = {**filters.as_detail(), "via": "command"}
        if errors:
            audit_record(event="audit.search", outcome=Outcome.FAILURE, user=user, detail=detail)
            raise CommandError("；".join(errors.values()))
        audit_record(event="audit.search", user=user, detail=detail)
        records = selectors.records_search(user=user, filters=filters)
        total = records.count()
        for r in records[: max(options["limit"], 0)]:
            at = timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S")
            obj = f"{r.object_type}:{r.object_id}" if r.object_type else "-"
            self.stdout.write(
                f"{at}  {r.event:<18} {r.outcome:<7} {r.username or '-':<12} {r.org_unit or '-':<6} "
                f"{obj:<16} {r.ip or '-':<15} {r.request_id or '-'}"
            )
        self.stdout.write(f"共 {total} 条，显示 {min(total, max(options['limit'], 0))} 条。")

    # archive -----------------------------------------------------------------------------------------

    def _archive(self, options: dict[str, Any]) -> None:
        days = retention_days()
        if days < MIN_RETENTION_DAYS:
            raise CommandError(f"JISHI_AUDIT_RETENTION_DAYS={days} 少于法定的 {MIN_RETENTION_DAYS} 天。")
        try:
            day = dt.date.fromisoformat(options["before"])
        except ValueError:
            raise CommandError("--before 应为 YYYY-MM-DD 格式的日期。") from None
        cutoff = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        limit = timezone.now() - dt.timedelta(days=days)
        if cutoff > limit:
            raise CommandError(
                f"--before {day} 在保存期内：安全审计记录须在线保存 {days} 天，"
                f"最晚只能归档 {timezone.localtime(limit):%Y-%m-%d %H:%M} 之前的记录。"
            )
        output = Path(options["output"])
        sidecar = output.with_name(output.name + ".sha256")
        if output.exists() or sidecar.exists():
            raise CommandError(f"{output} 或其校验文件已存在；归档文件不覆盖。")
        records = list(AuditRecord.objects.filter(at__lt=cutoff).order_by("at", "id"))
        if not records:
            self.stdout.write(f"没有 {day} 之前的安全审计记录，未生成文件。")
            return
        digest = hashlib.sha256()
        with output.open("wb") as handle:
            for record in records:
                line = (json.dumps(record_json(record), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
                digest.update(line)
                handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        sidecar.write_text(f"{digest.hexdigest()}  {output.name}\n", encoding="utf-8")
        ids = [r.pk for r in records]
        with transaction.atomic():
            deleted = 0
            for start in range(0, len(ids), DELETE_CHUNK):
                chunk = ids[start : start + DELETE_CHUNK]
                deleted += AuditRecord.objects.filter(pk__in=chunk, at__lt=cutoff).delete()[0]
            audit_record(
                event="audit.archive",
                detail={
                    "before": day.isoformat(),
                    "rows": deleted,
                    "file": output.name,
                    "sha256": digest.hexdigest(),
                },
            )
        sha = digest.hexdigest()
        done = f"已将 {deleted} 条 {day} 之前的记录归档到 {output}（SHA-256 {sha}）并删除。"
        self.stdout.write(self.style.SUCCESS(done))
