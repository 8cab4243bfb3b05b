"""Document pages: the printable report form and PDF downloads. Thin: authorize, call a service, respond."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from jishi.accounts import permissions as perms
from jishi.core.types import AuthedHttpRequest

from . import services
from .report_data import report_form


def attachment(document: services.GeneratedDocument) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    # RFC 6266 filename* carries the Chinese name; the ASCII fallback keeps old clients working.
    response["Content-Disposition"] = (
        f"attachment; filename=\"document.pdf\"; filename*=UTF-8''{quote(document.filename)}"
    )
    response["X-Document-SHA256"] = document.sha256
    return response


@login_required
def report_form_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    return render(
        request,
        "documents/report_form.html",
        {"form": report_form(nomination, viewer=request.user), "nomination": nomination},
    )


@login_required
def report_form_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    return attachment(services.report_form_generate(actor=request.user, nomination=nomination))


@login_required
def approval_form_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    return attachment(
        services.approval_form_generate(actor=request.user, cadre=nomination.cadre, nomination=nomination)
    )


@login_required
def cadre_approval_form_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cadre = perms.get_cadre_for_user(request.user, pk)
    return attachment(services.approval_form_generate(actor=request.user, cadre=cadre))
