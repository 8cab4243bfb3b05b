"""Render a ``Register`` as an Excel workbook (sheet 台账).

Layout: a title row and a filter line, then the header — the fixed columns span all header rows; each stage
name is merged over its steps, each step name over its two columns, and under it 日期 / 责任人. Panes are frozen
below the header and right of 姓名, so a person's name stays in view while scrolling through the steps.
"""

from __future__ import annotations

import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .register import Register

TITLE = "干部选拔任用工作台账"
SHEET = "台账"
DATE_FORMAT = "yyyy-mm-dd"
FIXED = (  # header, width
    ("批次编号", 18),
    ("纪实表编号", 22),
    ("单位", 16),
    ("姓名", 9),
    ("现任职务", 26),
    ("拟任职务", 26),
    ("状态", 8),
)
FROZEN_COLUMNS = 4  # through 姓名
TITLE_ROW, FILTER_ROW, STAGE_ROW, STEP_ROW, SUB_ROW = 1, 2, 3, 4, 5
FIRST_DATA_ROW = 6
DATE_WIDTH, PEOPLE_WIDTH = 11, 18

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E8EEF5")
STAGE_FILL = PatternFill("solid", fgColor="D5E0EE")
WAIVED_FILL = PatternFill("solid", fgColor="FFF4C2")
DROPPED_FONT = Font(color="808080")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)


def _head(ws: Worksheet, row: int, column: int, value: str, fill: PatternFill = HEAD_FILL) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    cell.font = Font(bold=True)
    cell.fill = fill
    cell.alignment = CENTER
    cell.border = BORDER


def register_xlsx(register: Register) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = SHEET
    wb.properties.title = TITLE
    wb.properties.subject = register.describe()
    wb.properties.creator = "干部选拔任用全程纪实系统"

    columns = register.columns
    last_column = len(FIXED) + 2 * len(columns)

    ws.cell(row=TITLE_ROW, column=1, value=TITLE).font = Font(bold=True, size=16)
    ws.cell(row=TITLE_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center")
    generated = f"{timezone.localtime(register.generated_at):%Y-%m-%d %H:%M}"
    ws.cell(row=FILTER_ROW, column=1, value=f"{register.describe()}；共 {len(register.rows)} 人；生成于 {generated}")
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last_column)
    ws.merge_cells(start_row=FILTER_ROW, start_column=1, end_row=FILTER_ROW, end_column=last_column)
    ws.row_dimensions[TITLE_ROW].height = 28

    for index, (label, width) in enumerate(FIXED, start=1):
        for header_row in (STAGE_ROW, STEP_ROW, SUB_ROW):
            _head(ws, header_row, index, label)
        ws.merge_cells(start_row=STAGE_ROW, start_column=index, end_row=SUB_ROW, end_column=index)
        ws.column_dimensions[get_column_letter(index)].width = width

    column = len(FIXED) + 1
    for stage in register.stages:
        span = 2 * len(stage.steps)
        for offset in range(span):
            _head(ws, STAGE_ROW, column + offset, stage.name, STAGE_FILL)
        ws.merge_cells(start_row=STAGE_ROW, start_column=column, end_row=STAGE_ROW, end_column=column + span - 1)
        for step in stage.steps:
            _head(ws, STEP_ROW, column, f"{step.step_id} {step.name}")
            _head(ws, STEP_ROW, column + 1, f"{step.step_id} {step.name}")
            ws.merge_cells(start_row=STEP_ROW, start_column=column, end_row=STEP_ROW, end_column=column + 1)
            _head(ws, SUB_ROW, column, "日期")
            _head(ws, SUB_ROW, column + 1, "责任人")
            ws.column_dimensions[get_column_letter(column)].width = DATE_WIDTH
            ws.column_dimensions[get_column_letter(column + 1)].width = PEOPLE_WIDTH
            column += 2
    ws.row_dimensions[STEP_ROW].height = 48

    for r, row in enumerate(register.rows, start=FIRST_DATA_ROW):
        fixed = (row.batch_number, row.number, row.unit, row.name, row.current_post, row.proposed_post, row.status)
        for c, value in enumerate(fixed, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.alignment = WRAP
            cell.border = BORDER
            if row.status == "已退出":
                cell.font = DROPPED_FONT
        c = len(FIXED) + 1
        for step_cell in row.cells:
            date_cell = ws.cell(row=r, column=c, value=step_cell.date)
            date_cell.number_format = DATE_FORMAT
            people_cell = ws.cell(row=r, column=c + 1, value=step_cell.people_text or None)
            for cell in (date_cell, people_cell):
                cell.alignment = WRAP
                cell.border = BORDER
                if step_cell.state == "waived":
                    cell.fill = WAIVED_FILL
            c += 2

    ws.freeze_panes = f"{get_column_letter(FROZEN_COLUMNS + 1)}{FIRST_DATA_ROW}"
    ws.print_title_rows = f"{STAGE_ROW}:{SUB_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
