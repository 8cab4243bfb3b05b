"""责任倒查 exports (Excel, CSV). A trace names people and what they did with personal records, so handing
one out is access: each export appends a ``trace.export`` event (kind, subject, row count, format, sha256
of the bytes handed out), as ``documents.services_exports`` does for the register.

The file is rendered before the transaction (the chain's head lock is not held while building it); the event
is appended afterwards and the bytes are returned only once it is committed. Viewing a trace page is a read
and is not logged.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core.exceptions import ApplicationError
from jishi.ledger.services import event_append
from jishi.selection.models import Nomination

from . import trace
from .models import EarlyWarning

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"  # so Excel opens a UTF-8 CSV with the Chinese intact
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WIDTHS = {"时间": 20, "操作人": 16, "动作": 16, "对象": 22, "内容": 40, "证据（文件 SHA-256）": 66, "事件哈希": 66}
HEAD_FILL = PatternFill("solid", fgColor="E8EEF5")
REFUSED = "只有本级及上级纪检监察、干部监督和部领导可以导出责任倒查。"


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    sha256: str


def _csv_cell(value: str) -> str:
    # Text typed by users must not turn into a spreadsheet formula when the CSV is opened (CSV injection).
    return "'" + value if value.startswith(FORMULA_START) else value


def render_csv(table: trace.TraceTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def render_xlsx(table: trace.TraceTable) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = "责任倒查"
    wb.properties.title = table.title
    ws.cell(row=1, column=1, value=table.title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}，共 {len(table.rows)} 条")
    for column, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=3, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        ws.column_dimensions[get_column_letter(column)].width = WIDTHS.get(header, 14)
    for r, row in enumerate(table.rows, start=4):
        for column, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=column, value=value)
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _render(table: trace.TraceTable, fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(table)
    if fmt == "xlsx":
        return render_xlsx(table)
    raise ApplicationError("导出格式只能是 Excel 或 CSV。", code="invalid_format")


def _export(
    *, actor: User, table: trace.TraceTable, fmt: str, fonds: str, subject_type: str, subject_id: int
) -> ExportFile:
    content = _render(table, fmt)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        event_append(
            fonds=fonds,
            actor=actor,
            action="trace.export",
            subject_type=subject_type,
            subject_id=subject_id,
            payload={
                "kind": table.kind,
                "subject": table.subject,
                "rows": len(table.rows),
                "format": fmt,
                "sha256": digest,
            },
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"责任倒查-{table.subject.replace('#', '-')}-{stamp}.{fmt}"
    return ExportFile(content, filename, FORMATS[fmt], digest)


def trace_nomination_export(*, actor: User, nomination: Nomination, fmt: str) -> ExportFile:
    """The nomination's trace; recorded in the batch's own chain."""
    unit = nomination.batch.org_unit
    perms.require(trace.can_trace(actor, unit), REFUSED)
    return _export(
        actor=actor,
        table=trace.nomination_table(nomination),
        fmt=fmt,
        fonds=unit.code,
        subject_type="nomination",
        subject_id=nomination.pk,
    )


def trace_warning_export(*, actor: User, warning: EarlyWarning, fmt: str) -> ExportFile:
    """The warning's trace; recorded in the warning unit's chain."""
    perms.require(trace.can_trace(actor, warning.org_unit), REFUSED)
    return _export(
        actor=actor,
        table=trace.warning_table(warning),
        fmt=fmt,
        fonds=warning.org_unit.code,
        subject_type="earlywarning",
        subject_id=warning.pk,
    )


def _own_trace_unit(actor: User) -> OrgUnit:
    """Where a staff trace export is recorded: the actor's own unit among those granting the trace role.

    A staff trace can span several fonds, so the data does not name one chain; the act is the actor's (as
    for the register export). The first such unit by 全宗号 — normally the higher department.
    """
    unit = (
        OrgUnit.objects.filter(
            pk__in=RoleAssignment.objects.filter(user=actor, role__in=[r.value for r in trace.TRACE_ROLES]).values(
                "org_unit"
            )
        )
        .order_by("code")
        .first()
    )
    perms.require(unit is not None, REFUSED)
    assert unit is not None
    return unit


def trace_user_export(*, actor: User, user: User, fmt: str) -> ExportFile:
    """A staff member's trace (limited to the fonds the actor may trace); recorded in the actor's unit."""
    unit = _own_trace_unit(actor)
    return _export(
        actor=actor,
        table=trace.user_table(user, actor),
        fmt=fmt,
        fonds=unit.code,
        subject_type="user",
        subject_id=user.pk,
    )
