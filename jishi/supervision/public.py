"""任前公示 as the public sees it: which notices are public today, and exactly which fields they show.

A notice is public while today lies in the 公示期 recorded on the batch's current R01 (任前公示) record
(saved, in progress or completed). It shows, for each ACTIVE nomination, 姓名、现任职务、拟任职务; the
公示期; the unit that receives reports; and, for a 破格提拔 approved by the higher level, the 情形和理由
(《条例》第四十二条: 涉及破格提拔的还应当说明破格的具体情形和理由). Nothing else leaves this module:
no ID number, birth date, family, votes, opinions, record ids, user names or links into the system.

Notices are addressed by an HMAC of the batch number (``notice_slug``), so they cannot be enumerated.
Read-only: nothing here changes state.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.crypto import salted_hmac

from jishi.selection.models import Batch, NominationStatus, RecordStatus, StepRecord
from jishi.selection.selectors import current_record

NOTICE_STEP = "R01"  # 任前公示
PRIOR_REPORT_STEP = "D05"  # 事前报告事项审核报批
EXCEPTIONAL = "破格提拔"
PUBLIC_STATUSES = (RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED)
SLUG_LENGTH = 24  # hex characters: 96 bits, far beyond guessing


@dataclass(frozen=True)
class NoticePerson:
    """One person on a notice. ``key`` is an opaque choice value for the feedback form."""

    key: str
    name: str
    current_post: str
    proposed_post: str
    nomination_id: int = field(repr=False)  # internal: used to file the feedback, never rendered


@dataclass(frozen=True)
class Notice:
    slug: str
    unit_name: str
    start: dt.date
    end: dt.date
    people: tuple[NoticePerson, ...]
    exceptions: tuple[str, ...]  # "破格提拔：…" lines
    batch_id: int = field(repr=False)  # internal: rate limits per notice, never rendered

    def person(self, key: str) -> NoticePerson | None:
        for person in self.people:
            if hmac.compare_digest(person.key, key):
                return person
        return None


def notice_slug(batch_number: str) -> str:
    """The public address of a batch's notice: keyed with SECRET_KEY, so unguessable and stable."""
    return salted_hmac("jishi.public.notice", batch_number).hexdigest()[:SLUG_LENGTH]


def person_key(nomination_number: str) -> str:
    return salted_hmac("jishi.public.person", nomination_number).hexdigest()[:16]


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _period(record: StepRecord | None, today: dt.date) -> tuple[dt.date, dt.date] | None:
    if record is None or record.status not in PUBLIC_STATUSES:
        return None
    start, end = _date(record.data.get("start_date")), _date(record.data.get("end_date"))
    if start is None or end is None or not start <= today <= end:
        return None
    return start, end


def _exceptions(batch: Batch, notice_record: StepRecord) -> tuple[str, ...]:
    """破格提拔 approved by the higher level (D05 事前报告, 批复意见 同意): its 情形和理由.

    The reason written on the notice itself (R01 exception_reason, meant for publication) is preferred;
    the 事由说明 of the prior report is the fallback the brief names.
    """
    report = current_record(batch, PRIOR_REPORT_STEP, None)
    if report is None or report.status == RecordStatus.WAIVED:
        return ()
    if report.data.get("matter") != EXCEPTIONAL or report.data.get("reply_opinion") != "同意":
        return ()
    reason = str(notice_record.data.get("exception_reason") or report.data.get("matter_detail") or "").strip()
    return (f"{EXCEPTIONAL}：{reason}",) if reason else ()


def _notice(batch: Batch, today: dt.date) -> Notice | None:
    record = current_record(batch, NOTICE_STEP, None)
    period = _period(record, today)
    if record is None or period is None:
        return None
    nominations = batch.nominations.filter(status=NominationStatus.ACTIVE).select_related("cadre", "position")
    people = tuple(
        NoticePerson(
            key=person_key(n.number),
            name=n.cadre.name,
            current_post=n.cadre.current_post,
            proposed_post=str(n.position),
            nomination_id=n.pk,
        )
        for n in nominations.order_by("id")
    )
    if not people:
        return None
    return Notice(
        slug=notice_slug(batch.number),
        unit_name=batch.org_unit.name,
        start=period[0],
        end=period[1],
        people=people,
        exceptions=_exceptions(batch, record),
        batch_id=batch.pk,
    )


def _candidates(today: dt.date) -> list[Batch]:
    """Batches with some R01 record whose period covers today (narrowed in SQL; ISO dates sort as text).

    Each candidate is re-checked against its *current* record: a correction may have moved the period.
    """
    iso = today.isoformat()
    ids = (
        StepRecord.objects.filter(
            step_id=NOTICE_STEP,
            nomination__isnull=True,
            status__in=PUBLIC_STATUSES,
            data__start_date__lte=iso,
            data__end_date__gte=iso,
        )
        .values_list("batch_id", flat=True)
        .distinct()
    )
    return list(Batch.objects.filter(pk__in=list(ids)).select_related("org_unit").order_by("number"))


def notices_current(*, today: dt.date | None = None) -> list[Notice]:
    """Every notice public today, ordered by the end of its period."""
    today = today or timezone.localdate()
    notices = [n for batch in _candidates(today) if (n := _notice(batch, today)) is not None]
    return sorted(notices, key=lambda n: (n.end, n.unit_name, n.slug))


def notice_get(*, slug: str, today: dt.date | None = None) -> Notice | None:
    """The notice at this address if it is public today, else None (the page answers 404)."""
    if len(slug) != SLUG_LENGTH:
        return None
    today = today or timezone.localdate()
    for batch in _candidates(today):
        if hmac.compare_digest(notice_slug(batch.number), slug):
            return _notice(batch, today)
    return None
