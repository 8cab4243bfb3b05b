"""Supervision state changes: warnings raised, resolved by an action or closed by a signed explanation;
calendar overrides; public feedback and its verification; key-post reviews; notifications.

Every change appends its ledger event in the same transaction. Notifications are delivery, not record:
they carry no event (the warning or step they point to has one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jishi.accounts import keys
from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core import crypto
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import Role
from jishi.ledger import signing
from jishi.ledger.models import Event
from jishi.ledger.services import event_append, signature_attach
from jishi.selection.models import Batch, Nomination, StepRecord

from .models import (
    EarlyWarning,
    FeedbackStatus,
    KeyPostReview,
    Notification,
    PublicFeedback,
    Severity,
    WarningStatus,
    WorkdayOverride,
)
from .rules import Finding

EXPLAIN_ROLES = frozenset({Role.SUPERVISION, Role.DEPT_LEADER, Role.DISCIPLINE})
FEEDBACK_MAX = 4000


def _signed_event(
    *,
    actor: User,
    key: Any,
    private: bytes,
    fonds: str,
    action: str,
    subject_type: str,
    subject_id: Any,
    payload: dict[str, Any],
) -> Event:
    """An event the actor signs with their personal key (role ``approver``), like a waiver.

    The caller unseals the key *before* its transaction (``keys.unseal``), so a wrong PIN stays counted
    even though the action is refused and rolled back.
    """
    event = event_append(
        fonds=fonds,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        payload={**payload, "role": "approver", "key_id": key.key_id},
    )
    message = signing.event_signature_message(fonds=fonds, seq=event.seq, event_hash=event.hash, role="approver")
    signature_attach(
        event=event, key_id=key.key_id, signer=actor.username, role="approver", signature=signing.sign(private, message)
    )
    return event


# Notifications ---------------------------------------------------------------------------------------


def notification_send(
    *, user: User, title: str, body: str = "", url: str = "", warning: EarlyWarning | None = None
) -> Notification:
    note = Notification.objects.create(
        user=user, title=title[:200], body=body, url=url[:300], warning=warning, created_at=timezone.now()
    )
    if getattr(settings, "NOTIFY_BY_EMAIL", False) and user.email:
        # Optional: the intranet may have a mail relay. A failed mail never loses the inbox item.
        try:
            send_mail(f"[纪实] {title}", f"{body}\n\n{url}", None, [user.email], fail_silently=False)
        except OSError:
            pass
        else:
            Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
    return note


def notification_read(*, user: User, notification: Notification) -> Notification:
    if notification.user_id != user.pk:
        perms.require(False, "这不是您的通知。")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def supervisors_of(unit: OrgUnit) -> list[User]:
    """干部监督 of the unit and of every unit above it (a higher department supervises the lower)."""
    units = [unit]
    parent = unit.parent
    while parent is not None:
        units.append(parent)
        parent = parent.parent
    return list(
        User.objects.filter(
            is_active=True,
            roles__org_unit__in=units,
            roles__role=Role.SUPERVISION,
        ).distinct()
    )


def _recipients(warning: EarlyWarning) -> list[User]:
    people = {u.pk: u for u in supervisors_of(warning.org_unit)}
    if warning.record is not None:
        people.setdefault(warning.record.started_by_id, warning.record.started_by)
    elif warning.nomination is not None:  # e.g. a probation reminder: the clerk who proposed the person
        people.setdefault(warning.nomination.added_by_id, warning.nomination.added_by)
    return [user for user in people.values() if user.is_active]


# Warnings --------------------------------------------------------------------------------------------


def warning_url(warning: EarlyWarning) -> str:
    return f"/supervision/warnings/{warning.pk}/"


def warning_raise(
    *,
    finding: Finding,
    org_unit: OrgUnit,
    fingerprint: str,
    batch: Batch | None = None,
    nomination: Nomination | None = None,
    record: StepRecord | None = None,
    step_id: str = "",
) -> EarlyWarning | None:
    """Open a warning for the finding unless one is already open for the same subject (idempotent), or one
    was closed by a signed explanation: the explanation answers the condition for as long as it lasts."""
    if EarlyWarning.objects.filter(
        fingerprint=fingerprint, status__in=[WarningStatus.OPEN, WarningStatus.EXPLAINED]
    ).exists():
        return None
    try:
        with transaction.atomic():
            warning = EarlyWarning.objects.create(
                org_unit=org_unit,
                rule_code=finding.code,
                severity=finding.severity,
                fingerprint=fingerprint[:200],
                batch=batch,
                nomination=nomination,
                record=record,
                step_id=step_id,
                message=finding.message,
                basis=finding.basis[:300],
                due_on=finding.due_on,
                raised_at=timezone.now(),
            )
            event_append(
                fonds=org_unit.code,
                actor=None,
                action="warning.raise",
                subject_type="earlywarning",
                subject_id=warning.pk,
                payload={
                    "rule": finding.code,
                    "severity": finding.severity,
                    "message": finding.message,
                    "batch": batch.number if batch else None,
                    "nomination": nomination.number if nomination else None,
                    "step": step_id,
                    "fingerprint": warning.fingerprint,
                },
            )
    except IntegrityError:
        return None  # a concurrent scan opened the same warning first
    for user in _recipients(warning):
        label = Severity(warning.severity).label
        notification_send(
            user=user,
            title=f"【{label}】{warning.rule_code} {warning.message[:80]}",
            url=warning_url(warning),
            warning=warning,
        )
    return warning


def _close(warning: EarlyWarning, status: str, *, actor: User | None, note: str, event: Event) -> None:
    warning.status = status
    warning.closed_at = event.recorded_at
    warning.closed_by = actor
    warning.closing_note = note
    warning.closing_event_hash = event.hash
    warning.save(update_fields=["status", "closed_at", "closed_by", "closing_note", "closing_event_hash"])


def warning_resolve(*, warning: EarlyWarning, note: str, actor: User | None = None) -> EarlyWarning:
    """The condition no longer holds: an action cleared it (found by the scan or by the acting service)."""
    with transaction.atomic():
        warning = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
        if not warning.is_open:
            return warning
        event = event_append(
            fonds=warning.org_unit.code,
            actor=actor,
            action="warning.resolve",
            subject_type="earlywarning",
            subject_id=warning.pk,
            payload={"rule": warning.rule_code, "note": note, "fingerprint": warning.fingerprint},
        )
        _close(warning, WarningStatus.RESOLVED, actor=actor, note=note, event=event)
    return warning


def can_explain(user: User, warning: EarlyWarning) -> bool:
    return perms.has_role(user, warning.org_unit, EXPLAIN_ROLES | {Role.SECTION_HEAD})


def warning_explain(*, actor: User, warning: EarlyWarning, explanation: str, pin: str) -> EarlyWarning:
    """Close a warning with a signed explanation (a 干部科长, 部领导, 干部监督 or 纪检监察 of the unit).

    A blocking warning cannot be explained away: it ends only when the action is put right.
    """
    perms.require(can_explain(actor, warning), "只有本单位干部科长、部领导、干部监督或纪检监察人员可以作出说明。")
    explanation = (explanation or "").strip()
    if len(explanation) < 5:
        raise ApplicationError("请写明情况说明（至少 5 个字）。", code="required")
    if "\x00" in explanation or len(explanation) > 4000:
        raise ApplicationError("情况说明含有无法保存的字符或过长（4000 字以内）。", code="invalid_text")
    if warning.severity == Severity.BLOCK:
        raise ApplicationError("阻断类预警不能以说明结束，须纠正后由系统自动消除。", code="block_not_explainable")
    if not warning.is_open:
        raise ApplicationError("该预警已结束。", code="closed")
    key, private = keys.unseal(user=actor, pin=pin)  # outside the transaction: failures stay counted
    with transaction.atomic():
        warning = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
        if not warning.is_open:
            raise ApplicationError("该预警已结束。", code="closed")
        event = _signed_event(
            actor=actor,
            key=key,
            private=private,
            fonds=warning.org_unit.code,
            action="warning.explain",
            subject_type="earlywarning",
            subject_id=warning.pk,
            payload={"rule": warning.rule_code, "explanation": explanation, "fingerprint": warning.fingerprint},
        )
        _close(warning, WarningStatus.EXPLAINED, actor=actor, note=explanation, event=event)
    return warning


# Calendar --------------------------------------------------------------------------------------------


def workday_override_set(*, actor: User, day: dt.date, is_working_day: bool, note: str) -> WorkdayOverride:
    """Record that a date is (or is not) a working day, e.g. a holiday schedule published after the library."""
    units = [ra.org_unit for ra in RoleAssignment.objects.filter(user=actor, role=Role.SYSADMIN)]
    perms.require(bool(units), "只有系统管理员可以维护工作日调整。")
    note = (note or "").strip()
    if not note or len(note) > 200:
        raise ApplicationError("请填写说明（如“国务院办公厅 2027 年部分节假日安排”），200 字以内。", code="required")
    with transaction.atomic():
        override, created = WorkdayOverride.objects.update_or_create(
            day=day,
            defaults={
                "is_working_day": is_working_day,
                "note": note,
                "created_by": actor,
                "created_at": timezone.now(),
            },
        )
        event_append(
            fonds=units[0].code,
            actor=actor,
            action="calendar.override",
            subject_type="workdayoverride",
            subject_id=override.pk,
            payload={"day": day.isoformat(), "working": is_working_day, "note": note, "new": created},
        )
    return override


# Public feedback on a 任前公示 ---------------------------------------------------------------------------


def source_hash(address: str) -> str:
    """A keyed hash of the sender's address: enough to rate-limit and spot floods, not to identify."""
    return crypto.lookup_hash(f"feedback:{address}")


def feedback_submit(*, nomination: Nomination, content: str, contact: str, source: str) -> PublicFeedback:
    """A report from the public during the notice period; it opens a W30 check that blocks 任职."""
    content = (content or "").strip()
    contact = (contact or "").strip()
    if len(content) < 10:
        raise ApplicationError("请具体写明反映的问题（至少 10 个字）。", code="required")
    if len(content) > FEEDBACK_MAX or len(contact) > 100 or "\x00" in content + contact:
        raise ApplicationError(f"反映内容请控制在 {FEEDBACK_MAX} 字以内，联系方式 100 字以内。", code="too_long")
    with transaction.atomic():
        feedback = PublicFeedback.objects.create(
            nomination=nomination,
            received_at=timezone.now(),
            content=content,
            contact_encrypted=crypto.encrypt(contact) if contact else "",
            source_hash=source_hash(source),
        )
        event_append(
            fonds=nomination.batch.org_unit.code,
            actor=None,
            action="feedback.receive",
            subject_type="publicfeedback",
            subject_id=feedback.pk,
            payload={
                "nomination": nomination.number,
                "content_sha256": hashlib.sha256(content.encode()).hexdigest(),
                "length": len(content),
            },
        )
    for user in supervisors_of(nomination.batch.org_unit):
        notification_send(
            user=user,
            title=f"公示期间收到反映：{nomination.cadre.name}",
            body="请及时核查；核查结论记录前不能办理任职手续。",
            url=f"/supervision/feedback/{feedback.pk}/",
        )
    return feedback


def feedback_verify(
    *, actor: User, feedback: PublicFeedback, verification: str, affects_appointment: bool, pin: str
) -> PublicFeedback:
    """Record the signed result of checking a report (W30); only then may 任职 proceed."""
    unit = feedback.nomination.batch.org_unit
    perms.require(
        perms.has_role(actor, unit, {Role.SUPERVISION, Role.DISCIPLINE}), "只有干部监督或纪检监察人员可以记录核查结论。"
    )
    verification = (verification or "").strip()
    if len(verification) < 5 or len(verification) > 4000 or "\x00" in verification:
        raise ApplicationError("请写明核查结论（5 到 4000 字）。", code="required")
    key, private = keys.unseal(user=actor, pin=pin)  # outside the transaction: failures stay counted
    with transaction.atomic():
        feedback = PublicFeedback.objects.select_for_update().get(pk=feedback.pk)
        if feedback.status != FeedbackStatus.OPEN:
            raise ApplicationError("该反映已核查。", code="closed")
        event = _signed_event(
            actor=actor,
            key=key,
            private=private,
            fonds=unit.code,
            action="feedback.verify",
            subject_type="publicfeedback",
            subject_id=feedback.pk,
            payload={
                "nomination": feedback.nomination.number,
                "verification": verification,
                "affects_appointment": affects_appointment,
            },
        )
        feedback.status = FeedbackStatus.VERIFIED
        feedback.verification = verification
        feedback.affects_appointment = affects_appointment
        feedback.verified_by = actor
        feedback.verified_at = event.recorded_at
        feedback.save()
    return feedback


# Key posts ---------------------------------------------------------------------------------------------


def key_post_review(*, actor: User, nomination: Nomination, approved: bool, opinion: str, pin: str) -> KeyPostReview:
    """干部监督机构 signs its review of a key-post nomination; 民主推荐 may start only after approval."""
    unit = nomination.batch.org_unit
    perms.require(perms.has_role(actor, unit, {Role.SUPERVISION}), "重要岗位动议须由干部监督人员审核。")
    if not nomination.position.is_key_post:
        raise ApplicationError("该职位不是重要岗位，无需审核。", code="not_key_post")
    opinion = (opinion or "").strip()
    if len(opinion) < 2 or len(opinion) > 2000 or "\x00" in opinion:
        raise ApplicationError("请填写审核意见（2000 字以内）。", code="required")
    key, private = keys.unseal(user=actor, pin=pin)  # outside the transaction: failures stay counted
    with transaction.atomic():
        if KeyPostReview.objects.filter(nomination=nomination).exists():
            raise ApplicationError("该人选已审核。", code="already_reviewed")
        event = _signed_event(
            actor=actor,
            key=key,
            private=private,
            fonds=unit.code,
            action="keypost.review",
            subject_type="nomination",
            subject_id=nomination.pk,
            payload={"nomination": nomination.number, "approved": approved, "opinion": opinion},
        )
        return KeyPostReview.objects.create(
            nomination=nomination,
            reviewer=actor,
            approved=approved,
            opinion=opinion,
            reviewed_at=event.recorded_at,
            event_hash=event.hash,
        )
