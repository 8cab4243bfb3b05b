"""Every state change of the selection workflow — one function each, one transaction each,
one ledger event each (appended before the transaction commits)."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jishi.accounts import keys
from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.cadres.models import Cadre, Position
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import ROLE_LABELS, Role
from jishi.core.storage import file_problem, open_material
from jishi.ledger import signing
from jishi.ledger.services import event_append, fonds_lock, signature_attach
from jishi.procedures.schema import ItemKind, Scope, Step
from jishi.procedures.selectors import procedure_version_latest

from . import materials, selectors, transitions
from .models import (
    Batch,
    BatchKind,
    Confirmation,
    Material,
    Nomination,
    NominationStatus,
    NotebookEntry,
    NotebookKind,
    RecordStatus,
    StepRecord,
    VoteLine,
    VoteTally,
)
from .selectors import batch_state, current_record
from .step_input import TallyInput, clean_step_data, missing_required

TEXT_MAX = 5000


def _log(batch: Batch, actor: User, action: str, subject: Any, payload: dict[str, Any]) -> None:
    event_append(
        fonds=batch.org_unit.code,
        actor=actor,
        action=action,
        subject_type=type(subject)._meta.model_name or "",
        subject_id=subject.pk,
        payload={"batch": batch.number, **payload},
    )


def _refresh_finished(batch: Batch, at: dt.datetime) -> None:
    """Keep 办结时间 equal to the procedure's verdict, inside the caller's transaction.

    Lists, the to-do page and the dashboard filter on it; reading every batch's records to tell finished from
    unfinished would grow with ten years of data.
    """
    fresh = Batch.objects.select_related("procedure").get(pk=batch.pk)  # no stale prefetch from the caller
    finished = transitions.is_finished(fresh.procedure.definition, batch_state(fresh))
    if finished != (fresh.finished_at is not None):
        batch.finished_at = at if finished else None
        Batch.objects.filter(pk=batch.pk).update(finished_at=batch.finished_at)


def _text(value: str, label: str, *, required: bool = True, max_length: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ApplicationError(f"{label}含有无法保存的控制字符。", code="invalid_text", extra={"field": label})
    if required and not value:
        raise ApplicationError(f"请填写{label}。", code="required", extra={"field": label})
    if len(value) > max_length:
        raise ApplicationError(f"{label}过长（不超过 {max_length} 字）。", code="too_long", extra={"field": label})
    return value


def _step(batch: Batch, step_id: str) -> Step:
    try:
        return batch.procedure.definition.step(step_id)
    except KeyError:
        raise ApplicationError(f"流程中没有编号为“{step_id}”的步骤。", code="unknown_step") from None


def _worker_step(actor: User, batch: Batch, step_id: str) -> Step:
    """The step, provided the actor is one of its responsible people in the batch's department."""
    step = _step(batch, step_id)
    perms.require(perms.can_work_on_step(actor, batch, step.responsible_roles), "您不是该步骤的责任人，不能办理。")
    return step


def _locked(record: StepRecord) -> StepRecord:
    """Re-read the record under a row lock: concurrent saves and confirmations of one record queue here,
    so a confirmation always names the revision the signer actually saw."""
    return (
        StepRecord.objects.select_for_update(of=("self",))
        .select_related("batch__org_unit", "batch__procedure", "nomination")
        .get(pk=record.pk)
    )


def _require_open(record: StepRecord) -> None:
    if record.status != RecordStatus.IN_PROGRESS:
        raise ApplicationError(
            "该步骤已办结，纪实内容不能再修改；如需更正，请由干部科长或部领导办理更正。", code="record_closed"
        )
    if record.nomination_id and record.nomination and not record.nomination.is_active:
        raise ApplicationError("该人选已退出本批次，不能继续办理。", code="nomination_dropped")


# Batches and nominations --------------------------------------------------------------------------


def batch_create(
    *,
    actor: User,
    org_unit: OrgUnit,
    title: str,
    kind: str = BatchKind.ROUTINE,
    reason: str = "",
    positions: list[Position],
    procedure_code: str = "standard",
) -> Batch:
    """Open a new adjustment batch (调整批次) pinned to the latest version of the procedure."""
    perms.require(perms.can_create_batch(actor, org_unit), "只有本部门的经办人或干部科长可以新建调整批次。")
    title = _text(title, "批次名称", max_length=200)
    reason = _text(reason, "调整事由", required=False)
    if kind not in BatchKind.values:
        raise ApplicationError("选拔类型不正确。", code="invalid_kind")
    if not positions:
        raise ApplicationError("请至少选择一个拟任职位。", code="no_positions")
    foreign = [p for p in positions if p.org_unit_id != org_unit.pk]
    if foreign:
        raise ApplicationError(f"职位“{foreign[0]}”不归本部门管理。", code="foreign_position")
    procedure = procedure_version_latest(code=procedure_code)
    now = timezone.now()
    with transaction.atomic():
        fonds_lock(fonds=org_unit.code)
        year_count = Batch.objects.filter(org_unit=org_unit, created_at__year=now.year).count()
        batch = Batch.objects.create(
            org_unit=org_unit,
            number=f"{org_unit.code}-{now.year}-{year_count + 1:03d}",
            title=title,
            kind=kind,
            reason=reason,
            procedure=procedure,
            created_by=actor,
            created_at=now,
        )
        batch.positions.set(positions)
        _log(
            batch,
            actor,
            "batch.create",
            batch,
            {
                "title": title,
                "kind": kind,
                "reason": reason,
                "procedure": {"code": procedure.code, "version": procedure.version, "sha256": procedure.sha256},
                "positions": [{"id": p.pk, "name": str(p), "quota": p.quota, "filled": p.filled} for p in positions],
            },
        )
    return batch


def nomination_add(*, actor: User, batch: Batch, cadre: Cadre, position: Position) -> Nomination:
    """Add a person to the batch for a position (一人一表)."""
    perms.require(perms.can_manage_batch(actor, batch), "只有本部门的经办人或干部科长可以提出人选。")
    if cadre.org_unit_id != batch.org_unit_id:
        raise ApplicationError(f"{cadre.name} 不在本部门的干部管理范围内。", code="foreign_cadre")
    if not batch.positions.filter(pk=position.pk).exists():
        raise ApplicationError(f"“{position}”不是本批次的拟任职位。", code="foreign_position")
    definition = batch.procedure.definition
    state = batch_state(batch)
    for step in definition.steps():
        # A batch step that waits for every person's own steps has started: a person added now would be
        # past it without having gone through them (e.g. 初步人选征求纪检监察机关意见 before 酝酿).
        waited = any(definition.step(p).scope == Scope.NOMINATION for p in definition.prerequisites_of(step.id))
        reached = state.batch.get(step.id)
        if reached is not None and step.scope == Scope.BATCH and (step.closes_nominations or waited):
            done = "已完成" if reached in transitions.DONE_STATES else "已开始"
            raise ApplicationError(
                f"“{step.id} {step.name}”{done}，本批次不能再增加人选；如确需增加，请另行启动程序。",
                code="nominations_closed",
            )
    now = timezone.now()
    try:
        with transaction.atomic():
            fonds_lock(fonds=batch.org_unit.code)
            count = Nomination.objects.filter(batch=batch).count()
            nomination = Nomination.objects.create(
                batch=batch,
                cadre=cadre,
                position=position,
                number=f"{batch.number}-{count + 1:02d}",
                added_by=actor,
                added_at=now,
            )
            _log(
                batch,
                actor,
                "nomination.add",
                nomination,
                {
                    "number": nomination.number,
                    "cadre": {"id": cadre.pk, "name": cadre.name},
                    "position": {"id": position.pk, "name": str(position)},
                },
            )
            _refresh_finished(batch, now)
    except IntegrityError:
        raise ApplicationError(
            f"{cadre.name} 已是本批次人选，同一人在一个批次中只能有一张纪实表。", code="duplicate"
        ) from None
    return nomination


def nomination_drop(*, actor: User, nomination: Nomination, reason: str) -> Nomination:
    """Withdraw a nomination at any step; it stays on record with the reason and the step reached."""
    batch = nomination.batch
    perms.require(perms.can_manage_batch(actor, batch), "只有本部门的经办人或干部科长可以退出人选。")
    reason = _text(reason, "退出原因")
    if not nomination.is_active:
        raise ApplicationError("该人选已经退出。", code="already_dropped")
    if selectors.nomination_finished(nomination):
        raise ApplicationError(
            "该人选的全部程序已经办结，不能再退出；如需免职或撤销任职，应另行启动程序。", code="finished"
        )
    definition = batch.procedure.definition
    state = batch_state(batch)
    open_steps = [
        s.id for s in definition.steps() if state.nominations.get(nomination.pk, {}).get(s.id) == "in_progress"
    ]
    reached = (
        open_steps[0]
        if open_steps
        else next(
            (
                s.id
                for s in definition.steps()
                if transitions.cell_state(definition, state, s.id, nomination.pk)
                in (transitions.Cell.AVAILABLE, transitions.Cell.LOCKED)
            ),
            "",
        )
    )
    with transaction.atomic():
        nomination.status = NominationStatus.DROPPED
        nomination.dropped_reason = reason
        nomination.dropped_at_step = reached
        nomination.dropped_by = actor
        nomination.dropped_at = now = timezone.now()
        nomination.save()
        _log(
            batch,
            actor,
            "nomination.drop",
            nomination,
            {"number": nomination.number, "reason": reason, "step": reached},
        )
        _refresh_finished(batch, now)
    return nomination


# Steps ---------------------------------------------------------------------------------------------


def _refuse_skip(*, actor: User, batch: Batch, step: Step, nomination: Nomination | None, unmet: list[str]) -> None:
    """Record the refused attempt in its own transaction, then refuse: 越过程序 must leave a trace."""
    definition = batch.procedure.definition
    names = "、".join(f"{pid} {definition.step(pid).name}" for pid in unmet)
    with transaction.atomic():
        event_append(
            fonds=batch.org_unit.code,
            actor=actor,
            action="step.refused",
            subject_type="batch",
            subject_id=batch.pk,
            payload={
                "batch": batch.number,
                "step": step.id,
                "nomination": nomination.number if nomination else None,
                "unmet": unmet,
            },
        )
    raise ApplicationError(
        f"不能越过程序：办理“{step.id} {step.name}”之前，必须先完成 {names}。本次尝试已记入纪实台账。",
        code="out_of_order",
        extra={"unmet": unmet},
    )


def _target(batch: Batch, step: Step, nomination: Nomination | None) -> None:
    if step.scope == Scope.NOMINATION and nomination is None:
        raise ApplicationError(f"“{step.name}”须按人选逐一办理，请先选择人选。", code="nomination_required")
    if step.scope == Scope.BATCH and nomination is not None:
        raise ApplicationError(f"“{step.name}”是批次级步骤，不按人选办理。", code="batch_step")
    if nomination is not None:
        if nomination.batch_id != batch.pk:
            raise ApplicationError("该人选不属于本批次。", code="foreign_nomination")
        if not nomination.is_active:
            raise ApplicationError("该人选已退出本批次，不能继续办理。", code="nomination_dropped")


def step_start(*, actor: User, batch: Batch, step_id: str, nomination: Nomination | None = None) -> StepRecord:
    """Open the record of a step — allowed only when its prerequisites are complete."""
    step = _worker_step(actor, batch, step_id)
    _target(batch, step, nomination)
    if current_record(batch, step_id, nomination) is not None:
        raise ApplicationError("该步骤已经开始办理。", code="already_started")
    unmet = transitions.unmet_prerequisites(
        batch.procedure.definition, batch_state(batch), step_id, nomination.pk if nomination else None
    )
    if unmet:
        _refuse_skip(actor=actor, batch=batch, step=step, nomination=nomination, unmet=unmet)
    from jishi.supervision import checks

    facts, findings = checks.start_findings(batch, step_id, nomination)
    blocks = [f.message for f in findings if f.severity == "block"]
    if blocks:
        checks.record_outcome(facts, findings, step_id=step_id, nomination=nomination, record=None, refused=True)
        raise ApplicationError(
            f"不能开始办理“{step.id} {step.name}”：" + "；".join(blocks) + " 本次情况已记入预警。",
            code="rule_block",
            extra={"problems": blocks},
        )
    with transaction.atomic():
        # Serialize per department, then look again: a double-clicked 开始办理 must not open two records.
        fonds_lock(fonds=batch.org_unit.code)
        if current_record(batch, step_id, nomination) is not None:
            raise ApplicationError("该步骤已经开始办理。", code="already_started")
        record = StepRecord.objects.create(
            batch=batch, nomination=nomination, step_id=step_id, started_by=actor, started_at=timezone.now()
        )
        _log(
            batch,
            actor,
            "step.start",
            record,
            {"step": step_id, "nomination": nomination.number if nomination else None},
        )
    checks.record_outcome(facts, findings, step_id=step_id, nomination=nomination, record=record, refused=False)
    return record


def _bump(record: StepRecord, *, data: bool = False) -> None:
    """Next revision; the caller holds the row lock (``_locked``)."""
    record.revision += 1
    record.save(update_fields=["data", "revision"] if data else ["revision"])


def step_save(*, actor: User, record: StepRecord, data: dict[str, str]) -> StepRecord:
    """Save the step's structured fields. Saving invalidates earlier confirmations (new revision)."""
    step = _worker_step(actor, record.batch, record.step_id)
    _require_open(record)
    cleaned = clean_step_data(step, data)
    with transaction.atomic():
        record = _locked(record)
        _require_open(record)
        record.data = cleaned
        _bump(record, data=True)
        _log(
            record.batch,
            actor,
            "step.save",
            record,
            {"step": record.step_id, "revision": record.revision, "data": cleaned},
        )
    return record


def tally_save(*, actor: User, record: StepRecord, tally: TallyInput) -> VoteTally:
    """Save attendance and votes per candidate (应到、实到、有效票; 同意/不同意/弃权/缓议)."""
    step = _worker_step(actor, record.batch, record.step_id)
    _require_open(record)
    if step.tally is None:
        raise ApplicationError("该步骤没有计票内容。", code="no_tally")
    candidates = {n.pk: n for n in tally_candidates(record)}
    if set(tally.lines) != set(candidates):
        raise ApplicationError("计票名单与本步骤的人选不一致，请刷新页面后重新填写。", code="tally_candidates")
    with transaction.atomic():
        record = _locked(record)
        _require_open(record)
        vt, _ = VoteTally.objects.update_or_create(
            record=record,
            defaults={
                "kind": step.tally.kind.value,
                "due": tally.due,
                "present": tally.present,
                "valid_ballots": tally.valid_ballots,
            },
        )
        for nid, (approve, oppose, abstain, defer) in tally.lines.items():
            VoteLine.objects.update_or_create(
                tally=vt,
                nomination=candidates[nid],
                defaults={"approve": approve, "oppose": oppose, "abstain": abstain, "defer": defer},
            )
        _bump(record)
        _log(
            record.batch,
            actor,
            "tally.save",
            record,
            {
                "step": record.step_id,
                "revision": record.revision,
                "due": tally.due,
                "present": tally.present,
                "valid_ballots": tally.valid_ballots,
                "lines": {candidates[nid].number: list(v) for nid, v in tally.lines.items()},
            },
        )
    return vt


def tally_candidates(record: StepRecord) -> list[Nomination]:
    if record.nomination_id:
        return [record.nomination] if record.nomination else []
    return list(record.batch.nominations.filter(status=NominationStatus.ACTIVE).select_related("cadre"))


def _check_item(record: StepRecord, item_id: str) -> None:
    ids = {i.id for i in record.batch.procedure.definition.items_of(record.step_id)}
    if item_id and item_id not in ids:
        raise ApplicationError("该纪实项目不属于本步骤。", code="unknown_item")


def notebook_entry_add(
    *,
    actor: User,
    record: StepRecord,
    item_id: str,
    kind: str,
    occurred_at: dt.datetime,
    place: str,
    participants: str,
    content: str,
) -> NotebookEntry:
    """Add an entry of the 纪实专用笔记本 (time, place, participants, content, recorder)."""
    _worker_step(actor, record.batch, record.step_id)
    _require_open(record)
    _check_item(record, item_id)
    if kind not in NotebookKind.values:
        raise ApplicationError("笔记类别不正确。", code="invalid_kind")
    now = timezone.now()
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ApplicationError("纪实笔记记录的是已经发生的事，时间不能晚于现在。", code="future_time")
    if occurred_at < record.batch.created_at - dt.timedelta(days=366):
        raise ApplicationError("时间早于本批次启动一年以上，请核对。", code="too_early")
    with transaction.atomic():
        record = _locked(record)
        _require_open(record)
        entry = NotebookEntry.objects.create(
            record=record,
            item_id=item_id,
            kind=kind,
            occurred_at=occurred_at,
            place=_text(place, "地点", max_length=100),
            participants=_text(participants, "参加人员"),
            content=_text(content, "主要内容"),
            recorder=actor,
            created_at=now,
        )
        _bump(record)
        _log(
            record.batch,
            actor,
            "notebook.add",
            record,
            {
                "step": record.step_id,
                "entry": entry.pk,
                "item": item_id,
                "kind": kind,
                "occurred_at": occurred_at.isoformat(),
                "place": entry.place,
                "participants": entry.participants,
                "content": entry.content,
            },
        )
    return entry


def material_register(
    *,
    actor: User,
    record: StepRecord,
    item_id: str,
    title: str,
    document_number: str = "",
    pages: int = 1,
    upload: Any = None,
) -> Material:
    """Register a documentation material; an attached file is stored by its sha256, which the ledger keeps."""
    _worker_step(actor, record.batch, record.step_id)
    _require_open(record)
    if not item_id:
        raise ApplicationError("请选择材料对应的纪实项目。", code="required")
    _check_item(record, item_id)
    if not 1 <= pages <= 10000:
        raise ApplicationError("页数应在 1 到 10000 之间。", code="invalid_pages")
    stored = materials.store(upload) if upload is not None else None
    with transaction.atomic():
        record = _locked(record)
        _require_open(record)
        material = Material.objects.create(
            record=record,
            item_id=item_id,
            title=_text(title, "材料题名", max_length=200),
            document_number=_text(document_number, "文号", required=False, max_length=100),
            pages=pages,
            sha256=stored.sha256 if stored else "",
            size=stored.size if stored else 0,
            original_name=stored.name if stored else "",
            kind=stored.kind if stored else "",
            registered_by=actor,
            registered_at=timezone.now(),
        )
        _bump(record)
        _log(
            record.batch,
            actor,
            "material.register",
            record,
            {
                "step": record.step_id,
                "material": material.pk,
                "item": item_id,
                "title": material.title,
                "document_number": material.document_number,
                "pages": pages,
                "sha256": material.sha256,
                "size": material.size,
                "kind": material.kind,
            },
        )
    return material


def step_confirm(
    *, actor: User, record: StepRecord, role: str, pin: str, seen_revision: int | None = None
) -> Confirmation:
    """A responsible person signs the record's current revision in one of the signer roles.

    The PIN opens the person's Ed25519 key; the signature covers the event hash, and the event covers
    the record's content and the sha256 of every material registered for it.
    """
    step = _step(record.batch, record.step_id)
    if role not in step.signer_roles:
        raise ApplicationError("该身份不是本步骤的签字责任人。", code="not_signer")
    perms.require(
        perms.can_confirm_as(actor, record.batch, role, step.signer_roles),
        f"您在本部门没有“{ROLE_LABELS[Role(role)]}”身份，不能以此身份确认。",
    )
    _require_open(record)
    key, private = keys.unseal(user=actor, pin=pin)  # outside the transaction: failures stay counted
    with transaction.atomic():
        record = _locked(record)
        _require_open(record)
        if seen_revision is not None and seen_revision != record.revision:
            raise ApplicationError("您打开页面后纪实内容已被修改，请刷新页面、核对新内容后再确认。", code="stale")
        confirmed = record.confirmations.filter(revision=record.revision)
        if confirmed.filter(role=role).exists():
            raise ApplicationError("该身份已确认过当前内容。", code="already_confirmed")
        if confirmed.filter(user=actor).exists():
            # Two signer roles exist so that two people check the record; one person cannot fill both.
            raise ApplicationError("您已以另一身份确认过本纪实，同一人不能以两个身份签字。", code="same_person")
        event = event_append(
            fonds=record.batch.org_unit.code,
            actor=actor,
            action="step.confirm",
            subject_type="steprecord",
            subject_id=record.pk,
            payload={
                "batch": record.batch.number,
                "step": record.step_id,
                "role": role,
                "revision": record.revision,
                "data": record.data,
                "materials": sorted(m for m in record.materials.values_list("sha256", flat=True) if m),
                "notebook": sorted(record.notebook.values_list("pk", flat=True)),
                "key_id": key.key_id,
            },
        )
        message = signing.event_signature_message(
            fonds=record.batch.org_unit.code, seq=event.seq, event_hash=event.hash, role=role
        )
        signature_attach(
            event=event, key_id=key.key_id, signer=actor.username, role=role, signature=signing.sign(private, message)
        )
        confirmation = Confirmation.objects.create(
            record=record,
            user=actor,
            role=role,
            revision=record.revision,
            confirmed_at=event.recorded_at,
            event_hash=event.hash,
        )
    return confirmation


def completion_problems(record: StepRecord, findings: list[Any] | None = None) -> list[str]:
    """Why the record cannot be completed yet (empty list: it can). Used by the page and by step_complete."""
    definition = record.batch.procedure.definition
    step = definition.step(record.step_id)
    # Checked again at completion, not only at start: the batch may have changed since (同步纪实, no shortcut).
    unmet = transitions.unmet_prerequisites(definition, batch_state(record.batch), step.id, record.nomination_id)
    problems = [f"前置步骤未完成：{pre} {definition.step(pre).name}" for pre in unmet]
    problems += [f"未填写：{label}" for label in missing_required(step, record.data)]
    tally = getattr(record, "tally", None) if step.tally else None
    if step.tally and tally is None:
        problems.append(f"未录入{step.tally.label or '计票结果'}")
    for item in definition.items_of(step.id):
        if not item.required:
            continue
        if item.kind == ItemKind.MATERIAL and not record.materials.filter(item_id=item.id).exists():
            problems.append(f"缺少纪实材料：{item.name}")
        if item.kind == ItemKind.NOTEBOOK and not record.notebook.filter(item_id=item.id).exists():
            problems.append(f"缺少纪实笔记：{item.name}")
    confirmed = set(record.confirmations.filter(revision=record.revision).values_list("role", flat=True))
    for role in step.signer_roles:
        if role not in confirmed:
            problems.append(f"待{ROLE_LABELS[role]}确认签字")
    if findings is None:
        findings = rule_findings(record)
    problems.extend(f.message for f in findings if f.severity == "block")
    return problems


def rule_findings(record: StepRecord) -> list[Any]:
    """The supervision rules bound to the step's completion, over the record as it stands."""
    from jishi.supervision.checks import complete_findings

    return complete_findings(record)[1]


def step_complete(*, actor: User, record: StepRecord) -> StepRecord:
    """Close the step: every required field, item and signature present, no blocking rule broken.

    A refusal by a blocking supervision rule is kept as a blocking warning; warnings and notes the rules
    raise are opened once the completion has committed.
    """
    from jishi.supervision import checks

    _worker_step(actor, record.batch, record.step_id)
    facts: Any = None
    findings: list[Any] = []
    try:
        with transaction.atomic():
            record = (
                StepRecord.objects.select_for_update(of=("self",))
                .select_related("batch__org_unit", "batch__procedure", "nomination")
                .get(pk=record.pk)
            )
            _require_open(record)
            # Evaluated under the row lock, so the rules see exactly the content being completed.
            facts, findings = checks.complete_findings(record)
            problems = completion_problems(record, findings)
            if problems:
                raise ApplicationError(
                    "该步骤还不能完成：" + "；".join(problems) + "。", code="incomplete", extra={"problems": problems}
                )
            record.status = RecordStatus.COMPLETED
            record.completed_by = actor
            record.completed_at = now = timezone.now()
            record.save(update_fields=["status", "completed_by", "completed_at"])
            signers = list(record.confirmations.filter(revision=record.revision).values_list("role", "event_hash"))
            _log(
                record.batch,
                actor,
                "step.complete",
                record,
                {
                    "step": record.step_id,
                    "nomination": record.nomination.number if record.nomination else None,
                    "revision": record.revision,
                    "data": record.data,
                    "confirmations": [list(s) for s in signers],
                    "materials": list(record.materials.values_list("sha256", flat=True)),
                },
            )
            _refresh_finished(record.batch, now)
    except ApplicationError as exc:
        if facts is not None and exc.code == "incomplete" and any(f.severity == "block" for f in findings):
            checks.record_outcome(
                facts, findings, step_id=record.step_id, nomination=record.nomination, record=record, refused=True
            )
        raise
    assert facts is not None
    checks.record_outcome(
        facts, findings, step_id=record.step_id, nomination=record.nomination, record=record, refused=False
    )
    _file_if_finished(actor, record.batch)
    return record


def _file_if_finished(actor: User, batch: Batch) -> None:
    """The archive files a person or a batch as soon as its last step is done (一人一表、一批一档)."""
    from jishi.archives.hooks import step_done

    step_done(actor=actor, batch=batch)


APPROVER = "approver"


def _approver_signed(
    batch: Batch, actor: User, action: str, subject: Any, payload: dict[str, Any], key: Any, private: bytes
) -> None:
    """An approval (waiver, correction) is signed by the approver like a confirmation is."""
    event = event_append(
        fonds=batch.org_unit.code,
        actor=actor,
        action=action,
        subject_type=type(subject)._meta.model_name or "",
        subject_id=subject.pk,
        payload={"batch": batch.number, "role": APPROVER, "key_id": key.key_id, **payload},
    )
    message = signing.event_signature_message(
        fonds=batch.org_unit.code, seq=event.seq, event_hash=event.hash, role=APPROVER
    )
    signature_attach(
        event=event, key_id=key.key_id, signer=actor.username, role=APPROVER, signature=signing.sign(private, message)
    )


def step_waive(
    *,
    actor: User,
    batch: Batch,
    step_id: str,
    nomination: Nomination | None = None,
    reason: str,
    legal_basis: str,
    pin: str,
) -> StepRecord:
    """Waive a conditional step with reason, legal basis and a 部领导's signed approval (the actor)."""
    step = _step(batch, step_id)
    perms.require(perms.can_waive(actor, batch), "免除步骤须经部领导批准，您没有该权限。")
    if not step.waivable:
        raise ApplicationError(f"“{step.name}”是必经程序，不能免除。", code="not_waivable")
    reason = _text(reason, "免除理由")
    legal_basis = _text(legal_basis, "免除依据")
    _target(batch, step, nomination)
    unmet = transitions.unmet_prerequisites(
        batch.procedure.definition, batch_state(batch), step_id, nomination.pk if nomination else None
    )
    if unmet:
        _refuse_skip(actor=actor, batch=batch, step=step, nomination=nomination, unmet=unmet)
    key, private = keys.unseal(user=actor, pin=pin)
    now = timezone.now()
    with transaction.atomic():
        fonds_lock(fonds=batch.org_unit.code)
        record = current_record(batch, step_id, nomination)
        if record is None:
            record = StepRecord(batch=batch, nomination=nomination, step_id=step_id, started_by=actor, started_at=now)
        elif record.status != RecordStatus.IN_PROGRESS:
            raise ApplicationError("该步骤已办结，不能再免除。", code="record_closed")
        record.status = RecordStatus.WAIVED
        record.waiver_reason = reason
        record.waiver_basis = legal_basis
        record.completed_by = actor
        record.completed_at = now
        record.save()
        _approver_signed(
            batch,
            actor,
            "step.waive",
            record,
            {
                "step": step_id,
                "nomination": nomination.number if nomination else None,
                "reason": reason,
                "legal_basis": legal_basis,
            },
            key,
            private,
        )
        _refresh_finished(batch, now)
    return record


def step_correct(*, actor: User, record: StepRecord, reason: str, data: dict[str, str], pin: str) -> StepRecord:
    """Correct a completed record: a new record naming the old one, with the approver's signed reason;
    the old one is kept."""
    batch = record.batch
    perms.require(perms.can_correct(actor, batch), "更正已办结的纪实须由干部科长或部领导批准办理。")
    if record.status != RecordStatus.COMPLETED:
        raise ApplicationError("只有已完成的纪实记录可以更正。", code="not_completed")
    if hasattr(record, "corrected_by"):
        raise ApplicationError("该记录已被更正过，请更正最新的记录。", code="already_corrected")
    reason = _text(reason, "更正理由")
    step = _step(batch, record.step_id)
    cleaned = {**record.data, **clean_step_data(step, data)}
    missing = missing_required(step, cleaned)
    if missing:
        raise ApplicationError("更正后仍缺少必填项：" + "、".join(missing), code="invalid_fields")
    if cleaned == record.data:
        raise ApplicationError("更正内容与原记录相同，无需更正。", code="no_change")
    key, private = keys.unseal(user=actor, pin=pin)
    now = timezone.now()
    with transaction.atomic():
        fonds_lock(fonds=batch.org_unit.code)
        if StepRecord.objects.filter(corrects=record).exists():
            raise ApplicationError("该记录已被更正过，请更正最新的记录。", code="already_corrected")
        new = StepRecord.objects.create(
            batch=batch,
            nomination=record.nomination,
            step_id=record.step_id,
            status=RecordStatus.COMPLETED,
            data=cleaned,
            revision=record.revision,
            started_by=actor,
            started_at=now,
            completed_by=actor,
            completed_at=now,
            corrects=record,
            correction_reason=reason,
        )
        changed = {k: [record.data.get(k), v] for k, v in cleaned.items() if record.data.get(k) != v}
        _approver_signed(
            batch,
            actor,
            "step.correct",
            new,
            {
                "step": record.step_id,
                "corrects": record.pk,
                "reason": reason,
                "approver": actor.username,
                "changes": changed,
            },
            key,
            private,
        )
    return new


def material_download(*, actor: User, material: Material) -> IO[bytes]:
    """Hand out a stored material file; every access is an event (who read which evidence, when)."""
    batch = material.record.batch
    perms.require(perms.can_view_batch(actor, batch), "您无权查看该材料。")
    if not material.sha256:
        raise ApplicationError("该材料是纸质原件，没有电子文件。", code="no_file")
    problem = file_problem(material.sha256)
    if problem:
        raise ApplicationError(f"{problem}，请立即报告干部监督部门。", code="file_damaged")
    with transaction.atomic():
        _log(
            batch,
            actor,
            "material.download",
            material.record,
            {
                "step": material.record.step_id,
                "material": material.pk,
                "sha256": material.sha256,
            },
        )
    return open_material(material.sha256)
