"""A batch's 纪实专用笔记本 (dedicated documentation notebook) as plain data.

Every NotebookEntry of every record of the batch — batch and nomination scope, superseded records included
(a notebook is never torn: a correction adds a record, the entries written under the old one stay) — in the
order the events happened, numbered 1, 2, 3 … Each entry carries its step, its recorder and the record's
confirmations. The PDF and the printable HTML page both render this, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from jishi.core.roles import ROLE_LABELS, Role
from jishi.selection.models import Batch, Confirmation, NotebookEntry, RecordStatus, StepRecord

# Who chairs (主持) is the highest-ranking person who confirmed the record, in this order.
HOST_RANK: tuple[Role, ...] = (
    Role.PARTY_COMMITTEE,
    Role.DEPT_LEADER,
    Role.DEPT_COMMITTEE,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SUPERVISION,
    Role.ARCHIVIST,
    Role.CLERK,
)

CONFIRMED = "confirmed"
PARTIAL = "partial"
UNCONFIRMED = "unconfirmed"
CONFIRMATION_LABELS = {CONFIRMED: "已确认", PARTIAL: "部分确认", UNCONFIRMED: "未确认"}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def _rank(role: str) -> int:
    try:
        return HOST_RANK.index(Role(role))
    except ValueError:
        return len(HOST_RANK)


@dataclass(frozen=True)
class ConfirmationLine:
    name: str
    role: str  # code
    role_label: str
    at: dt.datetime
    current: bool  # confirms the record's current revision (content changed after an earlier one)


def host_of(lines: list[ConfirmationLine]) -> str:
    """The highest-ranking confirmer of the current revision (the earliest among equals); "" when none."""
    current = [line for line in lines if line.current]
    if not current:
        return ""
    return min(current, key=lambda line: (_rank(line.role), line.at)).name


@dataclass(frozen=True)
class Entry:
    number: int
    occurred_at: dt.datetime
    place: str
    kind: str
    participants: str
    content: str
    step_id: str
    step_name: str
    subject: str  # the person, for a nomination-scope step; "" for the batch
    recorder: str
    confirmations: tuple[ConfirmationLine, ...]
    host: str
    confirmation_state: str
    missing_roles: tuple[str, ...]  # labels of signer roles that have not confirmed the current revision
    waived: bool
    superseded: bool  # the record was later corrected

    @property
    def confirmation_label(self) -> str:
        return CONFIRMATION_LABELS[self.confirmation_state]

    @property
    def unconfirmed(self) -> bool:
        return self.confirmation_state != CONFIRMED


@dataclass(frozen=True)
class Notebook:
    batch_pk: int
    batch_number: str
    batch_title: str
    unit: str
    entries: tuple[Entry, ...]
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def period(self) -> tuple[dt.date, dt.date] | None:
        if not self.entries:
            return None
        return (
            timezone.localtime(self.entries[0].occurred_at).date(),
            timezone.localtime(self.entries[-1].occurred_at).date(),
        )

    @property
    def period_text(self) -> str:
        period = self.period
        return f"{period[0]:%Y-%m-%d} 至 {period[1]:%Y-%m-%d}" if period else "—"


def _confirmation_state(record: StepRecord, signer_roles: tuple[str, ...], confirmed: set[str]) -> str:
    if record.status == RecordStatus.COMPLETED:
        return CONFIRMED  # completion required every signer at the current revision
    if not confirmed:
        return UNCONFIRMED
    return CONFIRMED if set(signer_roles) <= confirmed else PARTIAL


def notebook_for_batch(batch: Batch) -> Notebook:
    """The batch's notebook in time order (occurred_at, then entry order). Four queries."""
    definition = batch.procedure.definition
    entries = (
        NotebookEntry.objects.filter(record__batch=batch)
        .select_related("record__nomination__cadre", "recorder")
        .prefetch_related(
            Prefetch(
                "record__confirmations",
                queryset=Confirmation.objects.select_related("user").order_by("confirmed_at", "id"),
            )
        )
        .order_by("occurred_at", "created_at", "id")
    )
    corrected = set(
        StepRecord.objects.filter(batch=batch, corrects__isnull=False).values_list("corrects_id", flat=True)
    )
    lines: list[Entry] = []
    for number, entry in enumerate(entries, start=1):
        record = entry.record
        try:
            step = definition.step(record.step_id)
            step_name, signer_roles = step.name, tuple(str(r) for r in step.signer_roles)
        except KeyError:
            step_name, signer_roles = "", ()
        confirmations = tuple(
            ConfirmationLine(
                name=c.user.get_full_name(),
                role=c.role,
                role_label=role_label(c.role),
                at=c.confirmed_at,
                current=c.revision == record.revision,
            )
            for c in record.confirmations.all()
        )
        confirmed_roles = {c.role for c in confirmations if c.current}
        state = _confirmation_state(record, signer_roles, confirmed_roles)
        missing = () if state == CONFIRMED else tuple(role_label(r) for r in signer_roles if r not in confirmed_roles)
        lines.append(
            Entry(
                number=number,
                occurred_at=entry.occurred_at,
                place=entry.place,
                kind=entry.get_kind_display(),
                participants=entry.participants,
                content=entry.content,
                step_id=record.step_id,
                step_name=step_name,
                subject=record.nomination.cadre.name if record.nomination else "",
                recorder=entry.recorder.get_full_name(),
                confirmations=confirmations,
                host=host_of(list(confirmations)),
                confirmation_state=state,
                missing_roles=missing,
                waived=record.status == RecordStatus.WAIVED,
                superseded=record.pk in corrected,
            )
        )
    return Notebook(
        batch_pk=batch.pk,
        batch_number=batch.number,
        batch_title=batch.title,
        unit=batch.org_unit.name,
        entries=tuple(lines),
    )
