"""Batch, nomination and to-do pages. Thin: authorize, parse, call one service, redirect or render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.accounts.models import RoleAssignment
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import ADMIN_ROLES, Role
from jishi.core.types import AuthedHttpRequest

from . import selectors, services
from .forms import BatchForm, DropForm, NominationForm

ADMIN_HOME = {Role.SYSADMIN: "user_admin", Role.SECADMIN: "role_admin", Role.AUDITOR: "audit_search"}


@login_required
def todo(request: AuthedHttpRequest) -> HttpResponse:
    roles = set(RoleAssignment.objects.filter(user=request.user).values_list("role", flat=True))
    if roles and roles <= ADMIN_ROLES:
        # An administrator has no selection work (三权分立): his start page is his own administration page.
        return redirect(ADMIN_HOME[Role(sorted(roles)[0])])
    return render(request, "selection/todo.html", {"todos": selectors.todos_for_user(request.user)})


@login_required
def batch_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.with_summary(selectors.batches_for_user(request.user)), 25).get_page(
        request.GET.get("page")
    )
    rows = [(b, selectors.batch_summary(b)) for b in page]
    can_create = bool(perms.acting_units(request.user))
    return render(request, "selection/batch_list.html", {"page": page, "rows": rows, "can_create": can_create})


@login_required
def batch_create(request: AuthedHttpRequest) -> HttpResponse:
    units = perms.acting_units(request.user)
    perms.require(bool(units), "只有经办人或干部科长可以新建调整批次。")
    form = BatchForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            positions = list(data.pop("positions"))
            batch = services.batch_create(actor=request.user, positions=positions, **data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已新建调整批次 {batch.number}。")
            return redirect("batch_detail", pk=batch.pk)
    return render(request, "selection/batch_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def batch_detail(request: AuthedHttpRequest, pk: int, nomination_form: NominationForm | None = None) -> HttpResponse:
    batch = perms.get_batch_for_user(request.user, pk)
    definition, rows = selectors.flow_map(batch)
    can_manage = perms.can_manage_batch(request.user, batch)
    context = {
        "batch": batch,
        "definition": definition,
        "rows": rows,
        "summary": selectors.batch_summary(batch),
        "nominations": batch.nominations.select_related("cadre", "position", "dropped_by"),
        "can_manage": can_manage,
        "nomination_form": nomination_form or (NominationForm(batch=batch) if can_manage else None),
    }
    return render(request, "selection/batch_detail.html", context, status=400 if nomination_form else 200)


@login_required
@require_POST
def nomination_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    batch = perms.get_batch_for_user(request.user, pk)
    form = NominationForm(request.POST, batch=batch)
    if form.is_valid():
        try:
            nomination = services.nomination_add(actor=request.user, batch=batch, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已将 {nomination.cadre.name} 列为人选（纪实表编号 {nomination.number}）。")
            return redirect("batch_detail", pk=batch.pk)
    return batch_detail(request, pk, nomination_form=form)


@login_required
def nomination_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    context = {
        "nomination": nomination,
        "batch": nomination.batch,
        "timeline": selectors.timeline(nomination),
        "drop_form": DropForm()
        if nomination.is_active
        and perms.can_manage_batch(request.user, nomination.batch)
        and not selectors.nomination_finished(nomination)
        else None,
    }
    return render(request, "selection/nomination_detail.html", context)


@login_required
@require_POST
def nomination_drop(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    form = DropForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写退出原因。")
    else:
        try:
            services.nomination_drop(actor=request.user, nomination=nomination, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{nomination.cadre.name} 已退出本批次，记录保留。")
    return redirect("nomination_detail", pk=nomination.pk)
