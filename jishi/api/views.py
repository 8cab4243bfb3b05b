"""接口令牌 page: a user creates tokens for scripts and systems (the secret is shown once) and revokes them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jishi.core.exceptions import ApplicationError
from jishi.core.types import AuthedHttpRequest

from . import tokens
from .models import ApiToken, Scope

SCOPE_LABELS = {
    Scope.READ: gettext_lazy("读取"),
    Scope.WRITE: gettext_lazy("办理"),
    Scope.SIGN: gettext_lazy("签名（凭签名口令）"),
}


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("用途"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("权限范围"),
        choices=[(k.value, v) for k, v in SCOPE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )
    days = forms.IntegerField(label=gettext_lazy("有效天数"), min_value=1, max_value=tokens.MAX_DAYS, initial=90)


def _page(request: AuthedHttpRequest, form: TokenForm, secret: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "secret": secret,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at")[:100],
        "scope_labels": SCOPE_LABELS,
        "now": timezone.now(),
    }
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@login_required
def token_page(request: AuthedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _, secret = tokens.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return _page(request, TokenForm(), secret=secret, status=201)
    return _page(request, form, status=400)


@login_required
@require_POST
def token_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404
    try:
        tokens.token_revoke(actor=request.user, token=token)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("令牌已吊销，使用它的请求将被拒绝。"))
    return redirect("api_tokens")
