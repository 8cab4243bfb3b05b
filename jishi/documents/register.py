"""The 台账 (appointments register) as plain data: one row per nomination (一人一行), one column per step.

Each step cell carries the completion date and the responsible people — the user who completed the record
and those who confirmed its current revision — read from the batch's record for batch-scope steps and from
the person's own record for nomination-scope steps. Only current records count: a correction replaces the
record it corrects (latest record per (step, nomination), as in ``selection.selectors``).

The period filter applies to the nomination's ``added_at`` (提出时间, local date, both ends inclusive): a row
is a person, so the period is when the person was proposed, not when the batch was opened. A batch opened in
December whose people were proposed in January therefore shows in January's register.

Three queries whatever the number of rows (nominations with their batch, unit, procedure, cadre and position;
the records of those batches; their confirmations with users), plus the permission lookup and, for a page, the
count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.procedures.schema import ProcedureDefinition, Scope
from jishi.selection.models import Confirmation, Nomination, NominationStatus, RecordStatus, StepRecord

STATUS_ACTIVE = "进行中"
STATUS_FINISHED = "已完成"
STATUS_DROPPED = "已退出"
WAIVED_MARK = "免除"
IN_PROGRESS_MARK = "办理中"
PAGE_SIZE = 100  # people per web page


@dataclass(frozen=True)
class RegisterFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    org_unit_id: int | None = None
    include_dropped: bool = False

    def as_payload(self) -> dict[str, Any]:
        """JSON-safe form, for the export's ledger event."""
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "org_unit": self.org_unit_id,
            "include_dropped": self.include_dropped,
        }


@dataclass(frozen=True)
class StepColumn:
    step_id: str
    name: str
    scope: str


@dataclass(frozen=True)
class StageGroup:
    stage_id: str
    name: str
    steps: tuple[StepColumn, ...]


@dataclass(frozen=True)
class RegisterCell:
    """One step for one person.

    ``state``: done / waived / in_progress / "" (not started) / na (the step is not in the batch's procedure).
    """

    state: str = ""
    date: dt.date | None = None
    people: tuple[str, ...] = ()

    @property
    def people_text(self) -> str:
        names = "、".join(self.people)
        if self.state == "waived":
            return f"{WAIVED_MARK}（{names}）" if names else WAIVED_MARK
        if self.state == "in_progress":
            return f"{IN_PROGRESS_MARK}（{names}）" if names else IN_PROGRESS_MARK
        return names


@dataclass(frozen=True)
class RegisterRow:
    batch_pk: int
    batch_number: str
    nomination_pk: int
    number: str  # 纪实表编号
    unit: str
    name: str
    current_post: str
    proposed_post: str
    status: str  # 进行中 / 已完成 / 已退出
    added_at: dt.date
    cells: tuple[RegisterCell, ...]  # aligned with Register.columns


@dataclass(frozen=True)
class Register:
    filters: RegisterFilters
    stages: tuple[StageGroup, ...]
    rows: tuple[RegisterRow, ...]
    unit_name: str = ""  # the filtered unit, if any
    generated_at: dt.datetime = field(default_factory=timezone.now)
    total: int = 0  # people matching the filters (rows holds one page of them when paged)
    page: int = 1
    pages: int = 1

    @property
    def columns(self) -> list[StepColumn]:
        return [step for stage in self.stages for step in stage.steps]

    def describe(self) -> str:
        """The filters as one line of Chinese, for titles."""
        f = self.filters
        start = f.date_from.isoformat() if f.date_from else "不限"
        end = f.date_to.isoformat() if f.date_to else "不限"
        parts = [f"提出时间 {start} 至 {end}", f"单位 {self.unit_name or '全部可查看单位'}"]
        parts.append("含已退出人选" if f.include_dropped else "不含已退出人选")
        return "；".join(parts)


def merged_columns(definitions: list[ProcedureDefinition]) -> tuple[StageGroup, ...]:
    """Stages and steps in procedure order. Batches pinned to different procedure versions share one header:
    the first definition gives the order, steps only another version has are appended to their stage (or a new
    stage at the end), so every version's steps have a column."""
    stages: dict[str, tuple[str, dict[str, StepColumn]]] = {}
    for definition in definitions:
        for stage in definition.stages:
            _, steps = stages.setdefault(stage.id, (stage.name, {}))
            for step in stage.steps:
                steps.setdefault(step.id, StepColumn(step.id, step.name, str(step.scope)))
    return tuple(StageGroup(sid, name, tuple(steps.values())) for sid, (name, steps) in stages.items())


@dataclass
class _Current:
    """The current record of a (step, person) as the register shows it — plain values, not model instances:
    a page holds thousands of records and their confirmations, and building models for them cost seconds."""

    pk: int
    status: str
    revision: int
    completed_at: dt.datetime | None
    people: list[str]  # the completer first, then who confirmed the current revision, in confirmation order


def _cell(record: _Current | None) -> RegisterCell:
    if record is None:
        return RegisterCell()
    people = tuple(dict.fromkeys(record.people))
    if record.status == RecordStatus.IN_PROGRESS:
        return RegisterCell("in_progress", None, people)
    done_at = timezone.localtime(record.completed_at).date() if record.completed_at else None
    state = "waived" if record.status == RecordStatus.WAIVED else "done"
    return RegisterCell(state, done_at, people)


def _current_records(records: QuerySet[StepRecord]) -> dict[tuple[int, str, int | None], _Current]:
    """Latest record per (batch, step, person) with who answers for it (two queries)."""
    current: dict[tuple[int, str, int | None], _Current] = {}
    rows = records.order_by("id").values_list(
        "pk",
        "batch_id",
        "step_id",
        "nomination_id",
        "status",
        "revision",
        "completed_at",
        "completed_by__full_name",
        "completed_by__username",
    )
    for pk, batch_id, step_id, nomination_id, status, revision, completed_at, full_name, username in rows:
        # Ascending id: a correction (newer) replaces the record it corrects.
        people = [full_name or username] if username is not None else []
        current[(batch_id, step_id, nomination_id)] = _Current(pk, status, revision, completed_at, people)
    by_pk = {record.pk: record for record in current.values()}
    confirmations = (
        Confirmation.objects.filter(record__in=records.values("pk"))
        .order_by("confirmed_at", "id")
        .values_list("record_id", "revision", "user__full_name", "user__username")
    )
    for record_id, revision, full_name, username in confirmations:
        record = by_pk.get(record_id)
        if record is not None and revision == record.revision:
            record.people.append(full_name or username)
    return current


def register_rows(
    *,
    user: User,
    date_from: dt.date | None,
    date_to: dt.date | None,
    org_unit_id: int | None,
    include_dropped: bool = False,
    page: int | None = None,
) -> Register:
    """The register of the nominations the user may see, filtered by 提出时间 and unit (see module docstring).

    ``page`` (1-based) gives one page of ``PAGE_SIZE`` people — the web page, whose rows would otherwise grow
    with ten years of a province; the Excel export asks for every row.
    """
    filters = RegisterFilters(date_from, date_to, org_unit_id, include_dropped)
    visible = perms.visible_unit_ids(user)
    units = {org_unit_id} & visible if org_unit_id is not None else visible
    nominations_qs = Nomination.objects.filter(batch__org_unit_id__in=units)
    if date_from is not None:
        nominations_qs = nominations_qs.filter(added_at__date__gte=date_from)
    if date_to is not None:
        nominations_qs = nominations_qs.filter(added_at__date__lte=date_to)
    if not include_dropped:
        nominations_qs = nominations_qs.filter(status=NominationStatus.ACTIVE)
    ordered = nominations_qs.select_related("batch__org_unit", "batch__procedure", "cadre", "position").order_by(
        "batch__created_at", "batch_id", "id"
    )
    total, pages = 0, 1
    if page is not None:
        total = nominations_qs.count()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        ordered = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    nominations = list(ordered)
    if page is None:
        total = len(nominations)
    unit_name = ""
    if org_unit_id is not None:
        unit = OrgUnit.objects.filter(pk=org_unit_id, pk__in=visible).first()
        unit_name = str(unit) if unit else "（无权查看的单位）"
    if not nominations:
        return Register(filters, (), (), unit_name, total=total, page=page or 1, pages=pages)

    shown = nominations_qs if page is None else Nomination.objects.filter(pk__in=[n.pk for n in nominations])
    records = StepRecord.objects.filter(batch__in=shown.values("batch_id")).filter(
        Q(nomination__isnull=True) | Q(nomination__in=shown.values("pk"))
    )
    current = _current_records(records)

    definitions: dict[int, ProcedureDefinition] = {}
    for nomination in reversed(nominations):  # newest batch first: the newest version sets the column order
        definitions.setdefault(nomination.batch.procedure_id, nomination.batch.procedure.definition)
    stages = merged_columns(list(definitions.values()))
    columns = [step for stage in stages for step in stage.steps]

    rows = []
    for nomination in nominations:
        batch = nomination.batch
        definition = definitions[batch.procedure_id]
        own = {step.id: step for step in definition.steps()}
        cells = []
        for column in columns:
            step = own.get(column.step_id)
            if step is None:
                cells.append(RegisterCell("na"))
                continue
            nid = nomination.pk if step.scope == Scope.NOMINATION else None
            cells.append(_cell(current.get((batch.pk, step.id, nid))))
        applicable = [c for c in cells if c.state != "na"]
        if nomination.status == NominationStatus.DROPPED:
            status = STATUS_DROPPED
        elif applicable and all(c.state in ("done", "waived") for c in applicable):
            status = STATUS_FINISHED
        else:
            status = STATUS_ACTIVE
        rows.append(
            RegisterRow(
                batch_pk=batch.pk,
                batch_number=batch.number,
                nomination_pk=nomination.pk,
                number=nomination.number,
                unit=str(batch.org_unit),
                name=nomination.cadre.name,
                current_post=nomination.cadre.current_post,
                proposed_post=str(nomination.position),
                status=status,
                added_at=timezone.localtime(nomination.added_at).date(),
                cells=tuple(cells),
            )
        )
    return Register(filters, stages, tuple(rows), unit_name, total=total, page=page or 1, pages=pages)
