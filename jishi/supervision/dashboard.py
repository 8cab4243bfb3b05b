"""Reads for the supervisor dashboard (监督看板) and the warning list: counts by unit × severity and by rule,
deadlines coming due, the progress of each active batch with the time spent per stage, key posts first.

Who sees it: 干部监督、纪检监察、部领导 over their unit and the units below (a higher department supervises
the lower), and a 干部科长 over the own unit. Everything here is a read; nothing is logged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core.roles import Role
from jishi.selection import transitions
from jishi.selection.models import Batch, Nomination, NominationStatus, StepRecord
from jishi.selection.selectors import batch_state, flow_map

from .models import EarlyWarning, KeyPostReview, Severity, WarningStatus
from .rules import REGISTRY

SEE_BELOW_ROLES = frozenset({Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER})
OWN_UNIT_ROLES = frozenset({Role.SECTION_HEAD})
SEVERITY_ORDER = (Severity.BLOCK, Severity.WARN, Severity.INFO)
DEADLINE_DAYS = 14
DONE_CELLS = frozenset({transitions.Cell.DONE.value, transitions.Cell.WAIVED.value})
NOT_COUNTED_CELLS = frozenset({"na", transitions.Cell.DROPPED.value})


# Who may look ----------------------------------------------------------------------------------------


def dashboard_units(user: User) -> list[OrgUnit]:
    """The units whose warnings and batches the user sees on the dashboard, ordered by 全宗号."""
    if not user.is_authenticated or not user.is_active:
        return []
    units: dict[int, OrgUnit] = {}
    roles = [r.value for r in SEE_BELOW_ROLES | OWN_UNIT_ROLES]
    for ra in RoleAssignment.objects.filter(user=user, role__in=roles).select_related("org_unit"):
        if ra.role in SEE_BELOW_ROLES:
            units.update((u.pk, u) for u in ra.org_unit.descendants_and_self())
        else:
            units[ra.org_unit_id] = ra.org_unit
    return sorted(units.values(), key=lambda u: u.code)


def rule_title(code: str) -> str:
    """The rule's title from the registry, or the bare code for a rule not (or no longer) registered."""
    spec = REGISTRY.get(code)
    return spec.title if spec is not None else code


# The warning list and its filters --------------------------------------------------------------------


@dataclass(frozen=True)
class WarningFilters:
    """The filters of ``/supervision/warnings/``; unknown or malformed values are ignored, not errors."""

    unit: int | None = None
    severity: str = ""
    rule: str = ""
    status: str = ""
    batch: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WarningFilters:
        def number(name: str) -> int | None:
            value = (query.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 12 else None

        severity = (query.get("severity") or "").strip()
        status = (query.get("status") or "").strip()
        rule = (query.get("rule") or "").strip()[:20]
        return cls(
            unit=number("unit"),
            severity=severity if severity in Severity.values else "",
            rule=rule,
            status=status if status in WarningStatus.values else "",
            batch=number("batch"),
        )

    def as_query(self, **changes: object) -> str:
        """The query string of these filters (with ``changes``), empty values left out."""
        values = {
            "unit": self.unit,
            "severity": self.severity,
            "rule": self.rule,
            "status": self.status,
            "batch": self.batch,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    @property
    def active(self) -> bool:
        return any((self.unit, self.severity, self.rule, self.status, self.batch))


def warning_list_url(**filters: object) -> str:
    return "/supervision/warnings/?" + WarningFilters().as_query(**filters)


def warnings_for_user(user: User, filters: WarningFilters | None = None) -> QuerySet[EarlyWarning]:
    """The warnings of the user's dashboard units, newest first, narrowed by the filters."""
    qs = EarlyWarning.objects.filter(org_unit__in=[u.pk for u in dashboard_units(user)]).select_related(
        "org_unit", "batch", "nomination__cadre", "record", "closed_by"
    )
    f = filters or WarningFilters()
    if f.unit is not None:
        qs = qs.filter(org_unit_id=f.unit)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.rule:
        qs = qs.filter(rule_code=f.rule)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.batch is not None:
        qs = qs.filter(batch_id=f.batch)
    return qs.order_by("-raised_at", "-id")


def get_warning_for_user(user: User, pk: int | str) -> EarlyWarning:
    """A warning the user may read: anyone who sees the unit's selection work (the clerk whose record it is
    about is sent its link), not only the dashboard roles. 404 if missing, 403 if not visible."""
    from django.http import Http404

    try:
        warning = EarlyWarning.objects.select_related(
            "org_unit", "batch__procedure", "nomination__cadre", "record", "closed_by"
        ).get(pk=pk)
    except (EarlyWarning.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    perms.require(perms.can_view_unit(user, warning.org_unit), "您无权查看该预警。")
    return warning


# Counts ----------------------------------------------------------------------------------------------


@dataclass
class Cell:
    count: int
    url: str


@dataclass
class UnitRow:
    unit: OrgUnit
    cells: list[Cell]  # in SEVERITY_ORDER
    total: Cell


@dataclass
class RuleRow:
    code: str
    title: str
    cells: list[Cell]  # in SEVERITY_ORDER
    total: Cell


def _cells(counts: Mapping[str, int], **filters: object) -> tuple[list[Cell], Cell]:
    cells = [
        Cell(counts.get(s.value, 0), warning_list_url(status=WarningStatus.OPEN.value, severity=s.value, **filters))
        for s in SEVERITY_ORDER
    ]
    total = Cell(sum(c.count for c in cells), warning_list_url(status=WarningStatus.OPEN.value, **filters))
    return cells, total


def open_by_unit(user: User) -> list[UnitRow]:
    """Open warnings of each dashboard unit by severity (every unit listed, zeros included)."""
    units = dashboard_units(user)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        EarlyWarning.objects.filter(org_unit__in=[u.pk for u in units], status=WarningStatus.OPEN)
        .values("org_unit", "severity")
        .annotate(n=Count("id"))
    ):
        counts[row["org_unit"]][row["severity"]] = row["n"]
    rows = []
    for unit in units:
        cells, total = _cells(counts[unit.pk], unit=unit.pk)
        rows.append(UnitRow(unit, cells, total))
    return rows


def open_by_rule(user: User) -> list[RuleRow]:
    """Open warnings by rule, most frequent first (then by code)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in (
        EarlyWarning.objects.filter(org_unit__in=[u.pk for u in dashboard_units(user)], status=WarningStatus.OPEN)
        .values("rule_code", "severity")
        .annotate(n=Count("id"))
    ):
        counts[row["rule_code"]][row["severity"]] = row["n"]
    rows = []
    for code, by_severity in counts.items():
        cells, total = _cells(by_severity, rule=code)
        rows.append(RuleRow(code, rule_title(code), cells, total))
    rows.sort(key=lambda r: (-r.total.count, r.code))
    return rows


def severity_totals(unit_rows: list[UnitRow]) -> list[tuple[str, str, Cell]]:
    """(severity code, label, cell) over all units — the pie chart and its table."""
    result = []
    for index, severity in enumerate(SEVERITY_ORDER):
        count = sum(r.cells[index].count for r in unit_rows)
        result.append(
            (
                severity.value,
                str(severity.label),
                Cell(count, warning_list_url(status=WarningStatus.OPEN.value, severity=severity.value)),
            )
        )
    return result


# Deadlines -------------------------------------------------------------------------------------------


@dataclass
class Deadline:
    warning: EarlyWarning
    due_on: dt.date
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return max(-self.days_left, 0)


def deadlines(user: User, *, days: int = DEADLINE_DAYS, today: dt.date | None = None) -> list[Deadline]:
    """Open warnings due within ``days`` days from today, and every overdue one, earliest first."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=days)
    qs = (
        EarlyWarning.objects.filter(
            org_unit__in=[u.pk for u in dashboard_units(user)],
            status=WarningStatus.OPEN,
            due_on__isnull=False,
            due_on__lte=horizon,
        )
        .select_related("org_unit", "batch", "nomination__cadre")
        .order_by("due_on", "raised_at", "id")
    )
    return [Deadline(w, w.due_on, (w.due_on - today).days) for w in qs if w.due_on is not None]


# Batch progress --------------------------------------------------------------------------------------


@dataclass
class StageTime:
    """Calendar days of one stage: from the first start of any of its records to the last completion.

    Waiting between steps counts (that is what a supervisor asks about: how long did 考察 take), so this
    is not the sum of the records' own durations. A stage not finished yet runs until now (``ongoing``).
    Corrections are left out: they are made later and would stretch a stage that was already over.
    """

    stage_id: str
    name: str
    days: float
    ongoing: bool


@dataclass
class BatchProgress:
    batch: Batch
    stage: str
    done: int
    total: int
    stage_times: list[StageTime]
    key_post_nominations: list[Nomination] = field(default_factory=list)

    @property
    def is_key_post(self) -> bool:
        return bool(self.key_post_nominations)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _days(delta: dt.timedelta) -> float:
    return round(max(delta.total_seconds(), 0) / 86400, 1)


def stage_times(batch: Batch, *, now: dt.datetime | None = None) -> list[StageTime]:
    """Time spent per stage of the batch (see ``StageTime``), for the stages that have begun."""
    now = now or timezone.now()
    definition = batch.procedure.definition
    state = batch_state(batch)
    current = transitions.current_stage(definition, state)
    names = [s.name for s in definition.stages]
    current_index = names.index(current) if current in names else len(names)
    stage_of = {step.id: index for index, stage in enumerate(definition.stages) for step in stage.steps}
    starts: dict[int, dt.datetime] = {}
    ends: dict[int, dt.datetime] = {}
    if "records" in getattr(batch, "_prefetched_objects_cache", {}):  # batch_progress prefetches them
        times = [(r.step_id, r.started_at, r.completed_at) for r in batch.records.all() if r.corrects_id is None]
    else:
        times = list(
            StepRecord.objects.filter(batch=batch, corrects__isnull=True).values_list(
                "step_id", "started_at", "completed_at"
            )
        )
    for step_id, started_at, completed_at in times:
        index = stage_of.get(step_id)
        if index is None:
            continue
        starts[index] = min(starts.get(index, started_at), started_at)
        if completed_at is not None:
            ends[index] = max(ends.get(index, completed_at), completed_at)
    result = []
    for index, stage in enumerate(definition.stages):
        if index not in starts:
            continue
        finished = index < current_index and index in ends
        end = ends[index] if finished else now
        result.append(StageTime(stage.id, stage.name, _days(end - starts[index]), ongoing=not finished))
    return result


def _key_post_nominations(batch: Batch) -> list[Nomination]:
    return [
        n
        for n in batch.nominations.all()
        if n.status == NominationStatus.ACTIVE and n.position.is_key_post  # prefetched below
    ]


def batch_progress(user: User, *, now: dt.datetime | None = None) -> list[BatchProgress]:
    """Every unfinished batch of the dashboard units: key-post batches first, then newest first."""
    batches = (
        Batch.objects.filter(org_unit__in=[u.pk for u in dashboard_units(user)], finished_at__isnull=True)
        .select_related("org_unit", "procedure")
        .prefetch_related("records", "nominations__position", "nominations__cadre")  # as selectors.with_state
        .order_by("-created_at", "-id")
    )
    rows = []
    for batch in batches:
        definition, flow = flow_map(batch)
        state = batch_state(batch)
        if transitions.is_finished(definition, state):
            continue
        states = [c.state for row in flow for cells in row.cells for c in cells if c.state not in NOT_COUNTED_CELLS]
        rows.append(
            BatchProgress(
                batch=batch,
                stage=transitions.current_stage(definition, state),
                done=sum(1 for s in states if s in DONE_CELLS),
                total=len(states),
                stage_times=stage_times(batch, now=now),
                key_post_nominations=_key_post_nominations(batch),
            )
        )
    rows.sort(key=lambda r: not r.is_key_post)  # stable: newest first within each group
    return rows


# Key posts -------------------------------------------------------------------------------------------


@dataclass
class KeyPostRow:
    nomination: Nomination
    review: KeyPostReview | None
    status: str  # approved | rejected | pending
    status_label: str
    open_warnings: int


KEY_POST_LABELS = {"approved": "审核同意", "rejected": "审核不同意", "pending": "待审核"}


def key_posts(user: User) -> list[KeyPostRow]:
    """Active nominations for key posts (重要岗位) in the dashboard units, pending reviews first."""
    nominations = (
        Nomination.objects.filter(
            batch__org_unit__in=[u.pk for u in dashboard_units(user)],
            status=NominationStatus.ACTIVE,
            position__is_key_post=True,
        )
        .select_related("batch__org_unit", "cadre", "position", "key_post_review__reviewer")
        .annotate(open_warnings=Count("warnings", filter=Q(warnings__status=WarningStatus.OPEN)))
        .order_by("-batch__created_at", "id")
    )
    rows = []
    for n in nominations:
        review = getattr(n, "key_post_review", None)
        status = "pending" if review is None else ("approved" if review.approved else "rejected")
        rows.append(KeyPostRow(n, review, status, KEY_POST_LABELS[status], n.open_warnings))
    order = {"pending": 0, "rejected": 1, "approved": 2}
    rows.sort(key=lambda r: order[r.status])
    return rows


# Chart data (json_script) ------------------------------------------------------------------------------


def chart_data(
    rule_rows: list[RuleRow], severities: list[tuple[str, str, Cell]], progress: list[BatchProgress]
) -> dict[str, object]:
    """Plain data for ``static/js/dashboard.js``; the page's tables show the same numbers."""
    stage_names: list[str] = []
    for row in progress:
        for st in row.stage_times:
            if st.name not in stage_names:
                stage_names.append(st.name)
    per_stage: dict[str, list[float]] = {name: [] for name in stage_names}
    for row in progress:
        by_name = {st.name: st.days for st in row.stage_times}
        for name in stage_names:
            per_stage[name].append(by_name.get(name, 0))
    return {
        "rules": {
            "labels": [r.code for r in rule_rows],
            "titles": [r.title for r in rule_rows],
            "values": [r.total.count for r in rule_rows],
            "urls": [r.total.url for r in rule_rows],
        },
        "severity": [
            {"code": code, "name": label, "value": cell.count, "url": cell.url} for code, label, cell in severities
        ],
        "stages": {
            "batches": [row.batch.number for row in progress],
            "series": [{"name": name, "data": per_stage[name]} for name in stage_names],
        },
    }
