"""The step page and its actions. Errors re-render the page with what was typed, status 400."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import ROLE_LABELS, Role
from jishi.core.types import AuthedHttpRequest
from jishi.ledger import selectors as ledger_selectors
from jishi.procedures.schema import Scope

from . import selectors, services, transitions
from .forms import CorrectForm, MaterialForm, NotebookForm, WaiveForm
from .materials import content_type
from .models import Batch, Material, Nomination, StepRecord
from .step_input import parse_tally


def _target(request: AuthedHttpRequest, pk: int | None, nomination_pk: int | None) -> tuple[Batch, Nomination | None]:
    if nomination_pk is not None:
        nomination = perms.get_nomination_for_user(request.user, nomination_pk)
        return nomination.batch, nomination
    return perms.get_batch_for_user(request.user, pk), None


def _url(batch: Batch, step_id: str, nomination: Nomination | None) -> str:
    if nomination is not None:
        return reverse("step_nomination", kwargs={"nomination_pk": nomination.pk, "step_id": step_id})
    return reverse("step_batch", kwargs={"pk": batch.pk, "step_id": step_id})


def _record_url(record: StepRecord) -> str:
    return _url(record.batch, record.step_id, record.nomination)


def render_step(
    request: AuthedHttpRequest,
    batch: Batch,
    step_id: str,
    nomination: Nomination | None,
    *,
    error: ApplicationError | None = None,
    posted: dict[str, Any] | None = None,
    forms: dict[str, Any] | None = None,
) -> HttpResponse:
    if error is None and forms and any(f.errors for f in forms.values()):
        # The form may sit in a section this user or state doesn't show; the banner always shows.
        messages_list = [
            f"{f.fields[name].label}：{m}" if name in f.fields else str(m)
            for f in forms.values()
            for name, errs in f.errors.items()
            for m in errs
        ]
        error = ApplicationError("提交的内容有误：" + "；".join(messages_list), code="invalid_form")
    definition = batch.procedure.definition
    try:
        step = definition.step(step_id)
    except KeyError:
        return render(
            request,
            "error.html",
            {"title": "步骤不存在", "message": f"流程中没有编号为“{step_id}”的步骤。"},
            status=404,
        )
    if (step.scope == Scope.NOMINATION) != (nomination is not None):
        return render(
            request,
            "error.html",
            {"title": "步骤不适用", "message": "该步骤的办理对象不是这里选择的对象。"},
            status=404,
        )
    state = selectors.batch_state(batch)
    nid = nomination.pk if nomination else None
    record = selectors.current_record(batch, step_id, nomination)
    history = list(batch.records.filter(step_id=step_id, nomination=nomination).order_by("id")) if record else []
    user = request.user
    context: dict[str, Any] = {
        "batch": batch,
        "nomination": nomination,
        "step": step,
        "stage": definition.stage_of(step_id),
        "items": definition.items_of(step_id),
        "record": record,
        "history": history,
        "cell": transitions.cell_state(definition, state, step_id, nid),
        "unmet": [definition.step(s) for s in transitions.unmet_prerequisites(definition, state, step_id, nid)],
        "prerequisites": [definition.step(s) for s in definition.prerequisites_of(step_id)],
        "can_work": perms.can_work_on_step(user, batch, step.responsible_roles),
        "can_waive": step.waivable and perms.can_waive(user, batch),
        "can_correct": perms.can_correct(user, batch),
        "responsible": [ROLE_LABELS[Role(r)] for r in step.responsible_roles],
        "error": error,
        "field_errors": (error.extra.get("fields", {}) if error else {}),
        "posted": posted or {},
        "notebook_form": NotebookForm(),
        "material_form": MaterialForm(),
        "waive_form": WaiveForm(),
        "correct_form": CorrectForm(),
        "step_url": _url(batch, step_id, nomination),
        "sources": {src.id: src.title for src in definition.sources},
    }
    if record is not None:
        confirmed = {c.role: c for c in record.confirmations.filter(revision=record.revision).select_related("user")}
        context.update(
            {
                "signers": [
                    {
                        "role": r,
                        "label": ROLE_LABELS[Role(r)],
                        "confirmation": confirmed.get(r),
                        "can": perms.can_confirm_as(user, batch, r, step.signer_roles),
                    }
                    for r in step.signer_roles
                ],
                "notebook": record.notebook.select_related("recorder"),
                "materials": record.materials.select_related("registered_by"),
                "tally": getattr(record, "tally", None),
                "candidates": services.tally_candidates(record) if step.tally else [],
                "problems": services.completion_problems(record) if record.status == "in_progress" else [],
                "warnings": [f for f in services.rule_findings(record) if f.severity == "warn"],
                "all_confirmations": record.confirmations.select_related("user").order_by("confirmed_at"),
                "evidence": ledger_selectors.evidence(
                    [e for h in history for e in ledger_selectors.events_for("steprecord", h.pk)]
                ),
            }
        )
        if step.tally:
            context.update(_tally_form_values(context["tally"], context["candidates"], posted or {}))
    data = record.data if record is not None else {}
    hidden = perms.hidden_step_fields(user, batch, step_id)  # sensitive fields (policy field.*)
    context["votes_hidden"] = bool(step.tally) and not perms.can_view_votes(user, batch)
    context["field_rows"] = [
        {
            "f": f,
            "value": HIDDEN_VALUE if f.id in hidden else (posted or {}).get(f.id, data.get(f.id, "")),
            "error": context["field_errors"].get(f.id, ""),
        }
        for f in step.fields
    ]
    context.update(forms or {})
    return render(request, "selection/step.html", context, status=400 if error or forms else 200)


HIDDEN_VALUE = "（无权查看）"


def _tally_form_values(tally: Any, candidates: list[Nomination], posted: dict[str, Any]) -> dict[str, Any]:
    """What the tally form shows: what was just typed (after an error), else what is stored."""
    saved = {line.nomination_id: line for line in tally.lines.all()} if tally else {}
    head = {
        key: posted.get(key, getattr(tally, key, "") if tally else "") for key in ("due", "present", "valid_ballots")
    }
    rows = []
    for nomination in candidates:
        line = saved.get(nomination.pk)
        values = {}
        for key in ("approve", "oppose", "abstain", "defer"):
            values[key] = posted.get(f"{key}_{nomination.pk}", getattr(line, key, 0) if line else 0)
        rows.append({"nomination": nomination, **values})
    return {"tally_head": head, "tally_rows": rows}


@login_required
def step_page(
    request: AuthedHttpRequest, step_id: str, pk: int | None = None, nomination_pk: int | None = None
) -> HttpResponse:
    batch, nomination = _target(request, pk, nomination_pk)
    return render_step(request, batch, step_id, nomination)


@login_required
@require_POST
def step_start(
    request: AuthedHttpRequest, step_id: str, pk: int | None = None, nomination_pk: int | None = None
) -> HttpResponse:
    batch, nomination = _target(request, pk, nomination_pk)
    try:
        services.step_start(actor=request.user, batch=batch, step_id=step_id, nomination=nomination)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return render_step(request, batch, step_id, nomination, error=exc)
    messages.success(request, "已开始办理本步骤。请同步记录办理情况。")
    return redirect(_url(batch, step_id, nomination))


@login_required
@require_POST
def step_waive(
    request: AuthedHttpRequest, step_id: str, pk: int | None = None, nomination_pk: int | None = None
) -> HttpResponse:
    batch, nomination = _target(request, pk, nomination_pk)
    form = WaiveForm(request.POST)
    if not form.is_valid():
        return render_step(request, batch, step_id, nomination, forms={"waive_form": form})
    try:
        services.step_waive(
            actor=request.user,
            batch=batch,
            step_id=step_id,
            nomination=nomination,
            pin=request.POST.get("pin", ""),
            **form.cleaned_data,
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return render_step(request, batch, step_id, nomination, error=exc, forms={"waive_form": form})
    messages.success(request, "已批准免除本步骤，理由和依据已记入纪实。")
    return redirect(_url(batch, step_id, nomination))


def _record_action(request: AuthedHttpRequest, pk: int, action: Any, success: str, form_key: str = "") -> HttpResponse:
    record = perms.get_record_for_user(request.user, pk)
    try:
        action(record)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return render_step(
            request, record.batch, record.step_id, record.nomination, error=exc, posted=dict(request.POST.items())
        )
    messages.success(request, success)
    return redirect(_record_url(record))


@login_required
@require_POST
def record_save(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    data = {k: str(v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    return _record_action(
        request,
        pk,
        lambda r: services.step_save(actor=request.user, record=r, data=data),
        "已保存。内容变更后，已有的确认需重新确认。",
    )


@login_required
@require_POST
def record_tally(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    def act(record: StepRecord) -> None:
        candidates = {n.pk: n.cadre.name for n in services.tally_candidates(record)}
        services.tally_save(
            actor=request.user, record=record, tally=parse_tally(dict(request.POST.items()), candidates)
        )

    return _record_action(request, pk, act, "计票结果已保存。")


@login_required
@require_POST
def record_notebook(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    form = NotebookForm(request.POST)
    if not form.is_valid():
        record = perms.get_record_for_user(request.user, pk)
        return render_step(request, record.batch, record.step_id, record.nomination, forms={"notebook_form": form})
    return _record_action(
        request,
        pk,
        lambda r: services.notebook_entry_add(actor=request.user, record=r, **form.cleaned_data),
        "纪实笔记已记录。",
    )


@login_required
@require_POST
def record_material(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    form = MaterialForm(request.POST, request.FILES)
    if not form.is_valid():
        record = perms.get_record_for_user(request.user, pk)
        return render_step(request, record.batch, record.step_id, record.nomination, forms={"material_form": form})
    data = dict(form.cleaned_data)
    upload = data.pop("file")
    return _record_action(
        request,
        pk,
        lambda r: services.material_register(actor=request.user, record=r, upload=upload, **data),
        "纪实材料已登记。",
    )


@login_required
@require_POST
def record_confirm(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    role, pin = request.POST.get("role", ""), request.POST.get("pin", "")
    seen = request.POST.get("revision", "")
    seen_revision = int(seen) if seen.isascii() and seen.isdigit() else None
    return _record_action(
        request,
        pk,
        lambda r: services.step_confirm(actor=request.user, record=r, role=role, pin=pin, seen_revision=seen_revision),
        "已确认签字。",
    )


@login_required
@require_POST
def record_complete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _record_action(
        request, pk, lambda r: services.step_complete(actor=request.user, record=r), "本步骤已完成，后续步骤已开放。"
    )


@login_required
@require_POST
def record_correct(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    form = CorrectForm(request.POST)
    if not form.is_valid():
        record = perms.get_record_for_user(request.user, pk)
        return render_step(request, record.batch, record.step_id, record.nomination, forms={"correct_form": form})
    data = {k: str(v) for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "reason", "pin")}
    pin = request.POST.get("pin", "")
    return _record_action(
        request,
        pk,
        lambda r: services.step_correct(
            actor=request.user, record=r, reason=form.cleaned_data["reason"], data=data, pin=pin
        ),
        "已办理更正：新记录已生成，原记录保留可查。",
    )


@login_required
def material_download(request: AuthedHttpRequest, pk: int) -> FileResponse:
    material = Material.objects.select_related("record__batch__org_unit").filter(pk=pk).first()
    if material is None:
        raise Http404
    stream = services.material_download(actor=request.user, material=material)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=material.original_name or material.title,
        content_type=content_type(material.kind),
    )
