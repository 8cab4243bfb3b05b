"""责任倒查 — who did what, when, on what evidence and under whose signature, read back from the ledger.

Three views of the same record: everything done about one nomination, everything one staff member did or
signed, and for one warning (a rule breach) the people who could have stopped it and when. Each is also a
plain table (headers + string rows) so the page and its Excel/CSV export cannot disagree.

Access: 纪检监察、干部监督、部领导, over their unit and the units below. Reads are not logged; exports are
(``supervision.exports``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core.roles import ROLE_LABELS, Role
from jishi.ledger.models import Event
from jishi.selection.models import Batch, Material, Nomination, RecordStatus, StepRecord
from jishi.selection.templatetags.jishi_tags import ACTION_LABELS as TIMELINE_LABELS

from .dashboard import rule_title
from .models import EarlyWarning, PublicFeedback, WarningStatus

StrOrPromise = str | Promise
TRACE_ROLES = frozenset({Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER})
SYSTEM_SIGNER = "system"

# Chinese labels of the ledger actions (checked against the ``action=`` / ``_log(`` calls of the services).
# The labels the timeline already uses (``selection.templatetags.jishi_tags``) win, so one act reads the same
# everywhere; these add the actions that list does not name.
ACTION_LABELS: dict[str, StrOrPromise] = {
    "cadre.lrmx_import": _("导入任免审批表数据"),
    "cadre.lrmx_export": _("导出任免审批表数据"),
    "position.key_post": _("设定重要岗位"),
    "document.report_form": _("生成全程纪实报告表"),
    "document.approval_form": _("生成干部任免审批表"),
    "register.export": _("导出任用台账"),
    "notebook.export": _("导出纪实专用笔记本"),
    "warning.raise": _("发出预警"),
    "warning.resolve": _("预警消除"),
    "warning.explain": _("签名作出预警说明"),
    "keypost.review": _("重要岗位动议审核"),
    "feedback.receive": _("收到公示期间反映"),
    "feedback.verify": _("核查公示期间反映"),
    "calendar.override": _("调整工作日"),
    "calendar.override_remove": _("撤销工作日调整"),
    "trace.export": _("导出责任倒查"),
}
PREFIX_LABELS: dict[str, StrOrPromise] = {
    "document": _("生成文书"),
    "warning": _("预警处理"),
    "step": _("步骤办理"),
    "trace": _("责任倒查"),
}


def action_label(action: str) -> str:
    label = TIMELINE_LABELS.get(action) or ACTION_LABELS.get(action) or PREFIX_LABELS.get(action.split(".", 1)[0])
    return str(label) if label else action


def _role(code: object) -> str:
    """批准人 for an approval (waiver, correction, explanation), else the role's label."""
    if code == "approver":
        return str(_("批准人"))
    try:
        return ROLE_LABELS[Role(str(code))]
    except ValueError:
        return str(code)


# Who may trace ---------------------------------------------------------------------------------------


def trace_units(user: User) -> list[OrgUnit]:
    """Units the user may trace: where the user is 纪检监察、干部监督 or 部领导, and the units below."""
    if not user.is_authenticated or not user.is_active:
        return []
    units: dict[int, OrgUnit] = {}
    for ra in RoleAssignment.objects.filter(user=user, role__in=[r.value for r in TRACE_ROLES]).select_related(
        "org_unit"
    ):
        units.update((u.pk, u) for u in ra.org_unit.descendants_and_self())
    return sorted(units.values(), key=lambda u: u.code)


def can_trace(user: User, unit: OrgUnit | None = None) -> bool:
    units = trace_units(user)
    return bool(units) if unit is None else any(u.pk == unit.pk for u in units)


def _get(queryset: Any, pk: object) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_nomination_for_trace(user: User, pk: object) -> Nomination:
    nomination: Nomination = _get(
        Nomination.objects.select_related("batch__org_unit", "batch__procedure", "cadre", "position"), pk
    )
    perms.require(can_trace(user, nomination.batch.org_unit), "只有本级及上级纪检监察、干部监督和部领导可以责任倒查。")
    return nomination


def get_warning_for_trace(user: User, pk: object) -> EarlyWarning:
    warning: EarlyWarning = _get(
        EarlyWarning.objects.select_related("org_unit", "batch__procedure", "nomination__cadre", "record", "closed_by"),
        pk,
    )
    perms.require(can_trace(user, warning.org_unit), "只有本级及上级纪检监察、干部监督和部领导可以责任倒查。")
    return warning


def get_user_for_trace(viewer: User, pk: object) -> User:
    perms.require(can_trace(viewer), "只有纪检监察、干部监督和部领导可以责任倒查。")
    return _get(User.objects.all(), pk)


# Ledger rows -----------------------------------------------------------------------------------------


@dataclass
class SignatureInfo:
    signer: str
    signer_name: str
    role: str
    role_label: str


@dataclass
class TraceRow:
    """One ledger event, as a supervisor reads it."""

    at: dt.datetime
    actor_name: str
    actor_id: int | None
    action: str
    label: str
    subject: str
    link: str
    detail: str
    evidence: list[str]  # sha256 of the materials / documents the act rests on
    signatures: list[SignatureInfo]  # personal signatures only (not the unit's system key)
    fonds: str
    seq: int
    hash: str


def _payload(event: Event) -> dict[str, Any]:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _evidence(payload: dict[str, Any]) -> list[str]:
    found: list[str] = []
    candidates = [payload.get("sha256")]
    materials = payload.get("materials")
    if isinstance(materials, list):
        candidates.extend(materials)
    for value in candidates:
        if isinstance(value, str) and len(value) == 64 and value not in found:
            found.append(value)
    return found


def _detail(action: str, p: dict[str, Any]) -> str:
    """A one-line summary of what the event says (the full payload stays on the ledger)."""
    if action == "step.confirm":
        return f"以{_role(p.get('role'))}身份确认第 {p.get('revision')} 次修订"
    if action == "step.waive":
        return f"免除理由：{p.get('reason', '')}；依据：{p.get('legal_basis', '')}"
    if action == "step.correct":
        return f"更正理由：{p.get('reason', '')}"
    if action == "nomination.drop":
        return f"退出原因：{p.get('reason', '')}"
    if action == "step.refused":
        return "未完成：" + "、".join(str(s) for s in p.get("unmet") or [])
    if action == "material.register":
        return f"{p.get('title', '')}（{p.get('pages', '')} 页）"
    if action == "notebook.add":
        return f"{p.get('place', '')}：{str(p.get('content', ''))[:60]}"
    if action == "tally.save":
        return f"应到 {p.get('due')} 人，实到 {p.get('present')} 人，有效票 {p.get('valid_ballots')}"
    if action == "step.complete":
        return f"第 {p.get('revision')} 次修订，签字 {len(p.get('confirmations') or [])} 人"
    if action == "warning.raise":
        return f"{p.get('rule', '')} {p.get('message', '')}"
    if action == "warning.resolve":
        return f"{p.get('rule', '')} {p.get('note', '')}"
    if action == "warning.explain":
        return f"{p.get('rule', '')} 说明：{p.get('explanation', '')}"
    if action == "keypost.review":
        return f"{'同意' if p.get('approved') else '不同意'}：{p.get('opinion', '')}"
    if action == "trace.export":
        return f"{p.get('kind', '')} {p.get('subject', '')}，{p.get('rows', '')} 行，{p.get('format', '')}"
    if action == "nomination.add":
        cadre = p.get("cadre") or {}
        position = p.get("position") or {}
        if not isinstance(cadre, dict) or not isinstance(position, dict):
            return ""
        return f"{cadre.get('name', '')} → {position.get('name', '')}"
    if action == "batch.create":
        return str(p.get("title", ""))
    return ""


@dataclass
class _Subjects:
    """What each event's subject is, loaded in bulk (one query per subject type)."""

    records: dict[str, StepRecord] = field(default_factory=dict)
    nominations: dict[str, Nomination] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    warnings: dict[str, EarlyWarning] = field(default_factory=dict)

    @classmethod
    def load(cls, events: list[Event]) -> _Subjects:
        ids: dict[str, set[str]] = {}
        for e in events:
            ids.setdefault(e.subject_type, set()).add(e.subject_id)

        def numeric(kind: str) -> list[int]:
            return [int(i) for i in ids.get(kind, ()) if i.isdigit()]

        return cls(
            records={
                str(r.pk): r
                for r in StepRecord.objects.filter(pk__in=numeric("steprecord")).select_related(
                    "batch__procedure", "nomination__cadre"
                )
            },
            nominations={
                str(n.pk): n for n in Nomination.objects.filter(pk__in=numeric("nomination")).select_related("cadre")
            },
            batches={str(b.pk): b for b in Batch.objects.filter(pk__in=numeric("batch"))},
            warnings={str(w.pk): w for w in EarlyWarning.objects.filter(pk__in=numeric("earlywarning"))},
        )

    def describe(self, event: Event) -> tuple[str, str]:
        """(subject text, link) of the event's subject."""
        key = event.subject_id
        if event.subject_type == "steprecord" and key in self.records:
            return step_label(self.records[key]), step_link(self.records[key])
        if event.subject_type == "nomination" and key in self.nominations:
            n = self.nominations[key]
            return f"{n.cadre.name}（{n.number}）", reverse("nomination_detail", args=[n.pk])
        if event.subject_type == "batch" and key in self.batches:
            b = self.batches[key]
            return f"批次 {b.number}", reverse("batch_detail", args=[b.pk])
        if event.subject_type == "earlywarning" and key in self.warnings:
            w = self.warnings[key]
            return f"预警 {w.rule_code}", reverse("warning_detail", args=[w.pk])
        return f"{event.subject_type} {key}", ""


def step_label(record: StepRecord) -> str:
    try:
        name = record.batch.procedure.definition.step(record.step_id).name
    except KeyError:
        name = ""
    who = f"（{record.nomination.cadre.name}）" if record.nomination_id and record.nomination else ""
    return f"{record.step_id} {name}{who}".strip()


def step_link(record: StepRecord) -> str:
    if record.nomination_id:
        return reverse("step_nomination", args=[record.nomination_id, record.step_id])
    return reverse("step_batch", args=[record.batch_id, record.step_id])


def _rows(events: list[Event]) -> list[TraceRow]:
    subjects = _Subjects.load(events)
    usernames = {s.signer for e in events for s in e.signatures.all() if s.signer != SYSTEM_SIGNER}
    names = {
        u.username: (u.get_full_name() or u.username)
        for u in User.objects.filter(username__in=usernames).only("username", "first_name", "last_name")
    }
    rows = []
    for e in events:
        payload = _payload(e)
        subject, link = subjects.describe(e)
        rows.append(
            TraceRow(
                at=e.recorded_at,
                actor_name=e.actor_name,
                actor_id=e.actor_id,
                action=e.action,
                label=action_label(e.action),
                subject=subject,
                link=link,
                detail=_detail(e.action, payload),
                evidence=_evidence(payload),
                signatures=[
                    SignatureInfo(s.signer, names.get(s.signer, s.signer), s.role, _role(s.role))
                    for s in e.signatures.all()
                    if s.signer != SYSTEM_SIGNER
                ],
                fonds=e.chain.fonds,
                seq=e.seq,
                hash=e.hash,
            )
        )
    return rows


def _event_query(query: Q) -> QuerySet[Event]:
    return (
        Event.objects.filter(query)
        .select_related("chain")
        .prefetch_related("signatures")
        .order_by("recorded_at", "chain__fonds", "seq")
    )


def _events(query: Q) -> list[Event]:
    return list(_event_query(query))


def _mentions(event: Event, number: str) -> bool:
    """A batch- or cadre-level event concerns the nomination unless it names another person."""
    nomination = _payload(event).get("nomination")
    return nomination in (None, "", number)


def nomination_trace(nomination: Nomination) -> list[TraceRow]:
    """Every act about the person in time order: the nomination itself, its records and the batch-level
    records of its batch, their materials, documents made for it, warnings and public feedback about it."""
    batch = nomination.batch
    records = StepRecord.objects.filter(batch=batch).filter(Q(nomination=nomination) | Q(nomination__isnull=True))
    record_ids = [str(pk) for pk in records.values_list("pk", flat=True)]
    material_ids = [str(pk) for pk in Material.objects.filter(record__in=records).values_list("pk", flat=True)]
    warning_ids = [
        str(pk)
        for pk in EarlyWarning.objects.filter(
            Q(nomination=nomination) | Q(batch=batch, nomination__isnull=True)
        ).values_list("pk", flat=True)
    ]
    feedback_ids = [str(pk) for pk in PublicFeedback.objects.filter(nomination=nomination).values_list("pk", flat=True)]
    query = (
        Q(subject_type="nomination", subject_id=str(nomination.pk))
        | Q(subject_type="steprecord", subject_id__in=record_ids)
        | Q(subject_type="material", subject_id__in=material_ids)
        | Q(subject_type="earlywarning", subject_id__in=warning_ids)
        | Q(subject_type="publicfeedback", subject_id__in=feedback_ids)
        | Q(subject_type="batch", subject_id=str(batch.pk))
        | Q(subject_type="cadre", subject_id=str(nomination.cadre_id), action__startswith="document.")
    )
    events = [e for e in _events(query) if e.subject_type not in ("batch", "cadre") or _mentions(e, nomination.number)]
    return _rows(events)


@dataclass
class UserTraceRow:
    row: TraceRow
    acted: bool  # the person is the event's actor
    signed_as: list[str]  # role labels the person signed this event in


def user_events(target: User, viewer: User) -> QuerySet[Event]:
    """The events of ``user_trace``, unevaluated: the page reads one page of them (a clerk's ten years of acts
    are tens of thousands of events), the export all."""
    codes = [u.code for u in trace_units(viewer)]
    return _event_query(
        Q(chain__fonds__in=codes)
        & (Q(actor=target) | Q(pk__in=Event.objects.filter(signatures__signer=target.username).values("pk")))
    )


def user_trace(target: User, viewer: User) -> list[UserTraceRow]:
    """Everything the person did or signed, in the fonds the viewer may trace (others are left out)."""
    return user_trace_rows(target, list(user_events(target, viewer)))


def user_trace_rows(target: User, events: list[Event]) -> list[UserTraceRow]:
    result = []
    for event, row in zip(events, _rows(events), strict=True):
        signed = [_role(s.role) for s in event.signatures.all() if s.signer == target.username]
        result.append(UserTraceRow(row, event.actor_id == target.pk, signed))
    return result


# Warning (rule breach) -------------------------------------------------------------------------------


@dataclass
class Involvement:
    """One person's part: what they did, in which capacity, when."""

    person: User | None
    person_name: str
    role_label: str
    what: str
    at: dt.datetime | None
    subject: str
    link: str
    event_hash: str = ""


@dataclass
class WarningTrace:
    warning: EarlyWarning
    records: list[StepRecord]  # the record where it arose, then its corrections
    responsible: list[Involvement]
    later: list[Involvement]
    closing: Involvement | None
    open_until: dt.datetime
    still_open: bool


def _unit_roles(user: User, unit: OrgUnit) -> str:
    return "、".join(ROLE_LABELS[r] for r in sorted(perms.roles_in(user, unit), key=list(Role).index)) or "—"


def _name(user: User | None) -> str:
    if user is None:
        return "系统"
    return user.get_full_name() or user.username


def _records_of(warning: EarlyWarning) -> list[StepRecord]:
    """The record the warning arose at (or, when it arose before one existed, the step's records since)."""
    base = StepRecord.objects.select_related(
        "batch__procedure", "batch__org_unit", "nomination__cadre", "started_by", "completed_by"
    ).prefetch_related("confirmations__user")
    first: StepRecord | None = None
    if warning.record_id:
        first = base.get(pk=warning.record_id)
    elif warning.batch_id and warning.step_id:
        first = (
            base.filter(batch_id=warning.batch_id, step_id=warning.step_id)
            .filter(Q(nomination_id=warning.nomination_id) if warning.nomination_id else Q(nomination__isnull=True))
            .order_by("id")
            .first()
        )
    if first is None:
        return []
    chain = [first]
    while True:
        nxt = base.filter(corrects=chain[-1]).first()
        if nxt is None:
            return chain
        chain.append(nxt)


def _record_involvements(record: StepRecord) -> list[Involvement]:
    unit = record.batch.org_unit
    subject, link = step_label(record), step_link(record)
    people: list[Involvement] = []
    if record.corrects_id:
        people.append(
            Involvement(
                record.started_by,
                _name(record.started_by),
                _unit_roles(record.started_by, unit),
                f"批准更正（理由：{record.correction_reason}）",
                record.started_at,
                subject,
                link,
            )
        )
        return people
    people.append(
        Involvement(
            record.started_by,
            _name(record.started_by),
            _unit_roles(record.started_by, unit),
            "开始办理",
            record.started_at,
            subject,
            link,
        )
    )
    for c in sorted(record.confirmations.all(), key=lambda c: (c.confirmed_at, c.pk)):
        people.append(
            Involvement(
                c.user,
                _name(c.user),
                _role(c.role),
                f"确认签字（第 {c.revision} 次修订）",
                c.confirmed_at,
                subject,
                link,
                c.event_hash,
            )
        )
    if record.status == RecordStatus.WAIVED:
        people.append(
            Involvement(
                record.completed_by,
                _name(record.completed_by),
                "批准人（部领导）",
                f"批准免除（理由：{record.waiver_reason}）",
                record.completed_at,
                subject,
                link,
            )
        )
    elif record.status == RecordStatus.COMPLETED and record.completed_by is not None:
        people.append(
            Involvement(
                record.completed_by,
                _name(record.completed_by),
                _unit_roles(record.completed_by, unit),
                "完成步骤",
                record.completed_at,
                subject,
                link,
            )
        )
    return people


def _later(warning: EarlyWarning, exclude: set[int], until: dt.datetime) -> list[Involvement]:
    """Everyone who confirmed or closed another step of the same batch (person) while the warning was open."""
    if not warning.batch_id:
        return []
    records = StepRecord.objects.filter(batch_id=warning.batch_id).exclude(pk__in=exclude)
    if warning.nomination_id:
        records = records.filter(Q(nomination_id=warning.nomination_id) | Q(nomination__isnull=True))
    records = (
        records.order_by("id")
        .select_related("batch__procedure", "batch__org_unit", "nomination__cadre", "completed_by")
        .prefetch_related("confirmations__user")
    )
    window = (warning.raised_at, until)
    people: list[Involvement] = []
    for record in records:
        subject, link = step_label(record), step_link(record)
        for c in sorted(record.confirmations.all(), key=lambda c: (c.confirmed_at, c.pk)):
            if window[0] <= c.confirmed_at <= window[1]:
                people.append(
                    Involvement(
                        c.user, _name(c.user), _role(c.role), "确认签字", c.confirmed_at, subject, link, c.event_hash
                    )
                )
        if record.completed_at is not None and window[0] <= record.completed_at <= window[1]:
            waived = record.status == RecordStatus.WAIVED
            if waived:
                role = "批准人（部领导）"
            elif record.completed_by is not None:
                role = _unit_roles(record.completed_by, record.batch.org_unit)
            else:
                role = "—"
            people.append(
                Involvement(
                    record.completed_by,
                    _name(record.completed_by),
                    role,
                    "批准免除" if waived else ("批准更正" if record.corrects_id else "完成步骤"),
                    record.completed_at,
                    subject,
                    link,
                )
            )
    people.sort(key=lambda i: i.at or until)  # stable: a record's confirmations before its completion
    return people


def warning_trace(warning: EarlyWarning, *, now: dt.datetime | None = None) -> WarningTrace:
    """Who could have stopped the breach and when: the step's people, those who went on while it was open,
    and who closed it and how."""
    now = now or timezone.now()
    records = _records_of(warning)
    still_open = warning.status == WarningStatus.OPEN
    until = warning.closed_at or now
    responsible = [i for r in records for i in _record_involvements(r)]
    closing = None
    if not still_open:
        how = WarningStatus(warning.status).label
        closing = Involvement(
            warning.closed_by,
            _name(warning.closed_by),
            _unit_roles(warning.closed_by, warning.org_unit) if warning.closed_by else "自动核查",
            f"{how}：{warning.closing_note}",
            warning.closed_at,
            f"预警 {warning.rule_code}",
            reverse("warning_detail", args=[warning.pk]),
            warning.closing_event_hash,
        )
    return WarningTrace(
        warning=warning,
        records=records,
        responsible=responsible,
        later=_later(warning, {r.pk for r in records}, until),
        closing=closing,
        open_until=until,
        still_open=still_open,
    )


# Tables (page and export) ----------------------------------------------------------------------------


@dataclass
class TraceTable:
    kind: str  # nomination | user | warning
    title: str
    subject: str  # 纪实表编号, username or rule + warning id
    headers: list[str]
    rows: list[list[str]]


EVENT_HEADERS = [
    *("时间", "操作人", "动作", "对象", "内容"),
    *("证据（文件 SHA-256）", "个人签名", "全宗", "序号", "事件哈希"),
]
INVOLVEMENT_HEADERS = ["类别", "人员", "身份", "行为", "时间", "对象", "事件哈希"]


def _time(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _event_cells(row: TraceRow) -> list[str]:
    return [
        _time(row.at),
        row.actor_name,
        row.label,
        row.subject,
        row.detail,
        "\n".join(row.evidence),
        "；".join(f"{s.signer_name}（{s.role_label}）" for s in row.signatures),
        row.fonds,
        str(row.seq),
        row.hash,
    ]


def nomination_table(nomination: Nomination) -> TraceTable:
    return TraceTable(
        kind="nomination",
        title=f"责任倒查：{nomination.cadre.name}（{nomination.number}）",
        subject=nomination.number,
        headers=EVENT_HEADERS,
        rows=[_event_cells(r) for r in nomination_trace(nomination)],
    )


def user_table(target: User, viewer: User) -> TraceTable:
    return TraceTable(
        kind="user",
        title=f"责任倒查：{_name(target)}（{target.username}）经办和签字",
        subject=target.username,
        headers=EVENT_HEADERS,
        rows=[_event_cells(r.row) for r in user_trace(target, viewer)],
    )


def warning_table(warning: EarlyWarning) -> TraceTable:
    trace = warning_trace(warning)
    groups = [("责任环节", trace.responsible), ("预警期间继续办理", trace.later)]
    if trace.closing is not None:
        groups.append(("预警结束", [trace.closing]))
    rows = [
        [group, i.person_name, i.role_label, i.what, _time(i.at), i.subject, i.event_hash]
        for group, people in groups
        for i in people
    ]
    return TraceTable(
        kind="warning",
        title=f"责任倒查：预警 {warning.rule_code} {rule_title(warning.rule_code)}（#{warning.pk}）",
        subject=f"{warning.rule_code}#{warning.pk}",
        headers=INVOLVEMENT_HEADERS,
        rows=rows,
    )
