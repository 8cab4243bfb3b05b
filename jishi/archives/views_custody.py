"""Custody pages: 移交 to the personnel file, 冻结 and its release, 到期鉴定 and 销毁 (proposed, approved, executed).

Thin like ``views``: fetch-or-403, one service call per POST, a refusal comes back on the page with its message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role
from jishi.core.types import AuthedHttpRequest

from . import selectors, services_custody, services_documents
from .forms import DecideForm, ExecuteForm, HoldForm, ProposeForm, ReleaseForm, TransferForm
from .models import ArchiveItem, Disposition, DispositionStatus, LegalHold, VolumeKind
from .views import LABELS, download, file_format, history, on_volume, require_archive_units, submit

DISPOSITION_LABELS: dict[str, Any] = {
    DispositionStatus.PROPOSED: gettext_lazy("待批准"),
    DispositionStatus.APPROVED: gettext_lazy("已批准待执行"),
    DispositionStatus.REJECTED: gettext_lazy("未批准"),
    DispositionStatus.EXECUTED: gettext_lazy("已销毁"),
}
DISPOSITION_TAGS = {
    "proposed": "tag-progress",
    "approved": "tag-available",
    "rejected": "tag-dropped",
    "executed": "tag-done",
}
CUSTODY_LABELS = {**LABELS, "disposition": DISPOSITION_LABELS, "disposition_tag": DISPOSITION_TAGS}
ARCHIVIST = {Role.ARCHIVIST}


def get_disposition_for_user(user: User, pk: int) -> Disposition:
    disposition = (
        Disposition.objects.select_related("org_unit", "proposed_by", "decided_by", "executed_by").filter(pk=pk).first()
    )
    if disposition is None:
        raise Http404
    perms.require(perms.can_view_archive(user, disposition.org_unit), _("您无权查看该销毁清单。"))
    return disposition


def _held_volumes(items: list[ArchiveItem]) -> set[int]:
    volumes = {i.volume_id for i in items}
    return set(
        LegalHold.objects.filter(volume__in=volumes, released_at__isnull=True).values_list("volume_id", flat=True)
    )


def _bound(bound: dict[str, forms.Form], name: str, cls: type[forms.Form], allowed: bool) -> forms.Form | None:
    return bound.get(name) or (cls() if allowed else None)


# 移交 and 冻结 (on the volume page) ----------------------------------------------------------------------


@login_required
@require_POST
def archive_transfer(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    return submit(
        request,
        TransferForm(request.POST),
        lambda data: services_custody.transfer_sign(
            actor=request.user, volume=volume, received_by=data["received_by"], pin=data["pin"]
        ),
        _("已签字移交干部人事档案材料。"),
        redirect("archive_volume", pk=volume.pk),
        on_volume(request, volume, "transfer"),
    )


@login_required
def archive_transfer_list(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    if volume.kind != VolumeKind.PERSONAL:
        raise Http404
    content = services_documents.transfer_list_export(actor=request.user, volume=volume, fmt=file_format(fmt))
    return download(content, fmt, f"{volume.code}-移交清单.{fmt}")


@login_required
@require_POST
def archive_hold_place(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    return submit(
        request,
        HoldForm(request.POST),
        lambda data: services_custody.hold_place(actor=request.user, volume=volume, reason=data["reason"]),
        _("已冻结该案卷，解除前其文件不能销毁。"),
        redirect("archive_volume", pk=volume.pk),
        on_volume(request, volume, "hold"),
    )


@login_required
@require_POST
def archive_hold_release(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    hold = LegalHold.objects.filter(pk=pk).first()
    if hold is None:
        raise Http404
    volume = perms.get_volume_for_user(request.user, hold.volume_id)
    return submit(
        request,
        ReleaseForm(request.POST, auto_id=f"release{hold.pk}-%s"),
        lambda data: services_custody.hold_release(actor=request.user, hold=hold, reason=data["reason"]),
        _("已解除冻结。"),
        redirect("archive_volume", pk=volume.pk),
        on_volume(request, volume, f"release-{hold.pk}"),
    )


# 到期鉴定 and 销毁 ------------------------------------------------------------------------------------------


def _pick_unit(user: User, units: list[OrgUnit], value: str | None) -> OrgUnit:
    """The unit asked for, else the user's own archive unit (where they are 档案管理员, or hold any role)."""
    for unit in units:
        if str(unit.pk) == value:
            return unit
    own = [u for u in units if perms.has_role(user, u, ARCHIVIST)] or [u for u in units if perms.roles_in(user, u)]
    return (own or units)[0]


def _retention_page(
    request: AuthedHttpRequest,
    unit: OrgUnit,
    units: list[OrgUnit],
    *,
    form: ProposeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_propose = perms.can_archive(request.user, unit, ARCHIVIST)
    expired = selectors.expired_items(unit)
    held = _held_volumes(expired)
    form = form or (ProposeForm() if can_propose else None)
    dispositions = (
        Disposition.objects.filter(org_unit=unit)
        .select_related("proposed_by", "decided_by", "executed_by")
        .annotate(item_count=Count("items"))
    )
    context = {
        "unit": unit,
        "units": units,
        "expired": [(i, i.volume_id in held) for i in expired],
        "form": form,
        "checked": form.checked() if form else set(),
        "dispositions": dispositions,
        "labels": CUSTODY_LABELS,
    }
    return render(request, "archives/retention.html", context, status=status)


@login_required
def archive_retention(request: AuthedHttpRequest) -> HttpResponse:
    units = require_archive_units(request.user)
    return _retention_page(request, _pick_unit(request.user, units, request.GET.get("unit")), units)


@login_required
@require_POST
def archive_propose(request: AuthedHttpRequest) -> HttpResponse:
    units = require_archive_units(request.user)
    unit = next((u for u in units if str(u.pk) == request.POST.get("unit")), None)
    if unit is None:
        raise PermissionDenied(_("您无权为该单位提出销毁鉴定。"))
    form = ProposeForm(request.POST)
    items: list[ArchiveItem] = []
    if form.is_valid():
        ids = set(form.cleaned_data["items"])
        items = list(ArchiveItem.objects.filter(pk__in=ids, volume__org_unit=unit).select_related("volume"))
        if len(items) != len(ids):
            form.add_error(None, _("所选文件不是本单位的到期文件，请刷新页面后重新选择。"))
    if not form.is_valid():
        return _retention_page(request, unit, units, form=form, status=400)
    try:
        disposition = services_custody.disposition_propose(
            actor=request.user,
            unit=unit,
            items=items,
            title=form.cleaned_data["title"],
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _retention_page(request, unit, units, form=form, status=400)
    messages.success(request, _("已提出销毁鉴定，待部领导批准。"))
    return redirect("archive_disposition", pk=disposition.pk)


def _disposition_page(
    request: AuthedHttpRequest,
    disposition: Disposition,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user, unit, bound = request.user, disposition.org_unit, bound or {}
    may_decide = disposition.status == DispositionStatus.PROPOSED and perms.can_archive(
        user, unit, perms.ARCHIVE_APPROVE
    )
    same_person = may_decide and disposition.proposed_by_id == user.pk
    can_execute = disposition.status == DispositionStatus.APPROVED and perms.can_archive(user, unit, ARCHIVIST)
    items = list(disposition.items.select_related("volume").order_by("code"))
    held = _held_volumes(items)
    context: dict[str, Any] = {
        "disposition": disposition,
        "items": [(i, i.volume_id in held) for i in items],
        "decide_form": _bound(bound, "decide", DecideForm, may_decide and not same_person),
        "same_person": same_person,
        "execute_form": _bound(bound, "execute", ExecuteForm, can_execute),
        "history": history("disposition", disposition.pk),
        "labels": CUSTODY_LABELS,
    }
    return render(request, "archives/disposition_detail.html", context, status=status)


@login_required
def archive_disposition(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _disposition_page(request, get_disposition_for_user(request.user, pk))


@login_required
@require_POST
def archive_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    disposition = get_disposition_for_user(request.user, pk)
    form = DecideForm(request.POST)
    approve = form.is_valid() and bool(form.cleaned_data["approve"])
    return submit(
        request,
        form,
        lambda data: services_custody.disposition_decide(
            actor=request.user, disposition=disposition, approve=approve, note=data["note"], pin=data["pin"]
        ),
        _("已签字批准销毁。") if approve else _("已签字作出不批准的决定。"),
        redirect("archive_disposition", pk=disposition.pk),
        lambda f: _disposition_page(request, disposition, bound={"decide": f}, status=400),
    )


@login_required
@require_POST
def archive_execute(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    disposition = get_disposition_for_user(request.user, pk)
    return submit(
        request,
        ExecuteForm(request.POST),
        lambda data: services_custody.disposition_execute(actor=request.user, disposition=disposition, pin=data["pin"]),
        _("已签字执行销毁，文件在目录中标注为已销毁。"),
        redirect("archive_disposition", pk=disposition.pk),
        lambda f: _disposition_page(request, disposition, bound={"execute": f}, status=400),
    )


@login_required
def archive_disposition_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    disposition = get_disposition_for_user(request.user, pk)
    content = services_documents.disposition_list_export(actor=request.user, disposition=disposition)
    return download(content, "pdf", f"{disposition.org_unit.code}-销毁清单-{disposition.pk}.pdf")
