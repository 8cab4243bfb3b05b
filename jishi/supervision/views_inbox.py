"""The supervisors' queue of public feedback (with the signed verification) and every user's inbox.

Thin: authorize through ``inbox``'s fetch-or-403 helpers, parse with a form, call one service.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jishi.accounts import permissions as perms
from jishi.core import crypto
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.types import AuthedHttpRequest

from . import inbox, services
from .models import Notification, PublicFeedback

QUEUE_PER_PAGE = 50
INBOX_PER_PAGE = 30


class VerifyForm(forms.Form):
    verification = forms.CharField(
        label=gettext_lazy("核查结论"), widget=forms.Textarea(attrs={"rows": 5}), min_length=5, max_length=4000
    )
    affects_appointment = forms.TypedChoiceField(
        label=gettext_lazy("是否影响任职"),
        choices=[("0", gettext_lazy("不影响任职")), ("1", gettext_lazy("影响任职"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    pin = forms.CharField(label=gettext_lazy("签名口令"), widget=forms.PasswordInput(render_value=False), max_length=64)


# Public feedback queue ---------------------------------------------------------------------------------


@login_required
@require_GET
def feedback_queue(request: AuthedHttpRequest) -> HttpResponse:
    perms.require(bool(inbox.queue_unit_ids(request.user)), _(inbox.QUEUE_REFUSED))
    page = Paginator(inbox.feedback_queue_for(request.user), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "supervision/feedback_queue.html", {"page": page})


def _contact(feedback: PublicFeedback) -> str:
    try:
        return crypto.decrypt(feedback.contact_encrypted)
    except (ValueError, InvalidTag):  # a damaged cipher text (or a changed key) must not hide the report
        return _("（无法解密）")


def _render_feedback(
    request: AuthedHttpRequest, feedback: PublicFeedback, form: VerifyForm | None = None, status: int = 200
) -> HttpResponse:
    verifiable = inbox.can_verify(request.user, feedback)
    context = {
        "feedback": feedback,
        "contact": _contact(feedback),
        "form": form or (VerifyForm() if verifiable else None),
        "verifiable": verifiable,
    }
    return render(request, "supervision/feedback_detail.html", context, status=status)


@login_required
@require_GET
def feedback_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _render_feedback(request, inbox.get_feedback_for_user(request.user, pk))


@login_required
@require_POST
def feedback_verify(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    feedback = inbox.get_feedback_for_user(request.user, pk)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return _render_feedback(request, feedback, form, status=400)
    try:
        services.feedback_verify(
            actor=request.user,
            feedback=feedback,
            verification=form.cleaned_data["verification"],
            affects_appointment=form.cleaned_data["affects_appointment"],
            pin=form.cleaned_data["pin"],
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render_feedback(request, feedback, form, status=400)
    messages.success(request, _("核查结论已签名记录。"))
    return redirect("feedback_detail", pk=feedback.pk)


# Inbox -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def inbox_page(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(inbox.notifications_for(request.user), INBOX_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(note, inbox.safe_link(note.url)) for note in page]
    return render(request, "supervision/inbox.html", {"page": page, "rows": rows})


@login_required
@require_POST
def inbox_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    note = Notification.objects.filter(pk=pk).first()
    if note is None:
        raise Http404
    services.notification_read(user=request.user, notification=note)  # refuses another user's notification
    return redirect("inbox")


@login_required
@require_POST
def inbox_read_all(request: AuthedHttpRequest) -> HttpResponse:
    count = inbox.notification_read_all(user=request.user)
    messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
    return redirect("inbox")
