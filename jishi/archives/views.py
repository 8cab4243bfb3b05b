"""档案管理 pages: the volume list with 组卷, and the volume page with 整理 and 检查验收 (both signed).

Thin: authorize through the fetch-or-403 helpers, read through the selectors, call one service per POST.
A refused action (a wrong PIN, a gap, the same person twice) comes back on its page with the message and
the typed text; only PermissionDenied escapes, as a 403. The custody pages are in ``views_custody``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role
from jishi.core.types import AuthedHttpRequest
from jishi.ledger.models import Event
from jishi.ledger.selectors import events_for
from jishi.selection.models import Batch
from jishi.selection.selectors import batch_summary, with_summary

from . import selectors, services, services_documents
from .acceptance import volume_gaps
from .forms import AcceptForm, HoldForm, OrganizeForm, ReleaseForm, TransferForm
from .labels import ACTION_LABELS, LABELS, STATUS_LABELS
from .models import PersonnelTransfer, Volume, VolumeKind, VolumeStatus

VOLUMES_PER_PAGE = 50
BATCHES_PER_PAGE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": XLSX}


def archive_units(user: User) -> list[OrgUnit]:
    """Units whose archives the user may see: archive staff in their unit, supervisory roles also below."""
    units: dict[int, OrgUnit] = {}
    assignments = RoleAssignment.objects.filter(user=user, role__in=[r.value for r in perms.ARCHIVE_VIEW])
    for ra in assignments.select_related("org_unit"):
        if Role(ra.role) in perms.SEE_BELOW:
            units.update((u.pk, u) for u in ra.org_unit.descendants_and_self())
        else:
            units[ra.org_unit_id] = ra.org_unit
    return sorted((u for u in units.values() if perms.can_view_archive(user, u)), key=lambda u: u.code)


def require_archive_units(user: User) -> list[OrgUnit]:
    units = archive_units(user)
    perms.require(bool(units), _("您没有查看档案的权限。"))
    return units


def download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def file_format(fmt: str) -> str:
    if fmt not in CONTENT_TYPES:
        raise Http404
    return fmt


def history(subject: str, pk: int) -> list[tuple[Event, Any, list[Any]]]:
    return [(e, ACTION_LABELS.get(e.action, e.action), list(e.signatures.all())) for e in events_for(subject, pk)]


# 案卷列表 and 组卷 -------------------------------------------------------------------------------------


def _list_page(request: AuthedHttpRequest, *, status: int = 200, errors: dict[int, str] | None = None) -> HttpResponse:
    user = request.user
    units = require_archive_units(user)
    volumes = Volume.objects.filter(org_unit__in=units)
    counts = dict(volumes.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    shown = request.GET.get("status", "")
    if shown in VolumeStatus.values:
        volumes = volumes.filter(status=shown)
    page = Paginator(
        volumes.select_related("batch", "org_unit").annotate(item_count=Count("items")).order_by("-built_at", "code"),
        VOLUMES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    archived = Volume.objects.filter(kind=VolumeKind.BATCH, status=VolumeStatus.ARCHIVED).values("batch")
    # Ten years of batches without an archived file: paged, so a page reads 25 batches' records, not all.
    batch_page = Paginator(
        with_summary(
            Batch.objects.filter(org_unit__in=units)
            .exclude(pk__in=archived)
            .select_related("org_unit", "procedure")
            .prefetch_related("volumes")
            .order_by("-created_at", "-id")
        ),
        BATCHES_PER_PAGE,
    ).get_page(request.GET.get("bpage"))
    errors = errors or {}
    context = {
        "page": page,
        "shown": shown,
        "tabs": [(s.value, STATUS_LABELS[s], counts.get(s.value, 0)) for s in VolumeStatus],
        "total": sum(counts.values()),
        "batch_page": batch_page,
        "batches": [
            (
                b,
                batch_summary(b),
                list(b.volumes.all()),
                perms.can_archive(user, b.org_unit, perms.ARCHIVE_BUILD),
                errors.get(b.pk, ""),
            )
            for b in batch_page
        ],
        "labels": LABELS,
    }
    return render(request, "archives/volume_list.html", context, status=status)


@login_required
def archive_list(request: AuthedHttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
@require_POST
def archive_build(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    batch = perms.get_batch_for_user(request.user, pk)
    try:
        built = services.volume_build(actor=request.user, batch=batch)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _list_page(request, status=400, errors={batch.pk: exc.message})
    codes = _("、").join(v.code for v in built)
    messages.success(request, _("已组卷：%(codes)s。请整理后签字。") % {"codes": codes})
    return redirect("archive_list")


# 案卷 -----------------------------------------------------------------------------------------------


def volume_page(
    request: AuthedHttpRequest, volume: Volume, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    """The volume page; ``bound`` holds a refused form (by name) to show with its message and text."""
    user, unit, bound = request.user, volume.org_unit, bound or {}
    may_check = volume.status == VolumeStatus.ORGANIZED and perms.can_archive(user, unit, perms.ARCHIVE_CHECK)
    same_person = may_check and volume.organized_by_id == user.pk
    can_organize = volume.status == VolumeStatus.DRAFT and perms.can_archive(user, unit, perms.ARCHIVE_ORGANIZE)
    can_hold = perms.can_archive(user, unit, perms.ARCHIVE_HOLD)
    transferable = volume.kind == VolumeKind.PERSONAL and volume.is_archived
    transfer = PersonnelTransfer.objects.filter(volume=volume).select_related("handed_by").first()
    can_transfer = transferable and transfer is None and perms.can_archive(user, unit, {Role.ARCHIVIST})
    holds = list(volume.holds.select_related("placed_by", "released_by"))
    events = history("volume", volume.pk)

    def form(name: str, cls: type[forms.Form], allowed: bool, **kwargs: Any) -> forms.Form | None:
        return bound.get(name) or (cls(**kwargs) if allowed else None)

    context = {
        "volume": volume,
        "unit": unit,
        "gaps": volume_gaps(volume),
        "items": list(volume.items.order_by("position")),
        "organize_form": form("organize", OrganizeForm, can_organize),
        "accept_form": form("accept", AcceptForm, may_check and not same_person),
        "same_person": same_person,
        "transferable": transferable,
        "transfer": transfer,
        "personnel_items": selectors.personnel_items(volume) if transferable else [],
        "transfer_form": form("transfer", TransferForm, can_transfer),
        "active_holds": [
            (h, form(f"release-{h.pk}", ReleaseForm, can_hold, auto_id=f"release{h.pk}-%s"))
            for h in holds
            if h.is_active
        ],
        "released_holds": [h for h in holds if not h.is_active],
        "hold_form": form("hold", HoldForm, can_hold),
        "history": events,
        "signed": {e.seq: signatures for e, _label, signatures in events},
        "labels": LABELS,
    }
    return render(request, "archives/volume_detail.html", context, status=status)


def submit(
    request: AuthedHttpRequest,
    form: forms.Form,
    act: Callable[[dict[str, Any]], object],
    done: str,
    success: HttpResponse | Callable[[], HttpResponse],
    failure: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """One POST: validate, call one service, then redirect with ``done`` — or re-render via ``failure`` with
    the form, its typed values and the refusal (a wrong PIN, a gap). Only PermissionDenied escapes (403)."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, done)
            return success if isinstance(success, HttpResponse) else success()
    return failure(form)


def on_volume(request: AuthedHttpRequest, volume: Volume, key: str) -> Callable[[forms.Form], HttpResponse]:
    return lambda form: volume_page(request, volume, bound={key: form}, status=400)


@login_required
def archive_volume(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return volume_page(request, perms.get_volume_for_user(request.user, pk))


@login_required
@require_POST
def archive_organize(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    return submit(
        request,
        OrganizeForm(request.POST),
        lambda data: services.volume_organize(actor=request.user, volume=volume, pin=data["pin"], notes=data["notes"]),
        _("已整理签字，请另一人检查验收。"),
        redirect("archive_volume", pk=volume.pk),
        on_volume(request, volume, "organize"),
    )


@login_required
@require_POST
def archive_accept(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    return submit(
        request,
        AcceptForm(request.POST),
        lambda data: services.volume_accept(actor=request.user, volume=volume, pin=data["pin"]),
        _("已检查验收签字，案卷已归档。"),
        redirect("archive_volume", pk=volume.pk),
        on_volume(request, volume, "accept"),
    )


@login_required
def archive_catalogue(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    volume = perms.get_volume_for_user(request.user, pk)
    content = services_documents.catalogue_export(actor=request.user, volume=volume, fmt=file_format(fmt))
    return download(content, fmt, f"{volume.code}-归档文件目录.{fmt}")
