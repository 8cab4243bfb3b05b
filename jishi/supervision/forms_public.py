"""The public feedback form on a 任前公示 page. It only cleans: filing goes through ``ratelimit``.

Two cheap bot checks: a hidden honeypot field people never see, and a signed timestamp issued with the
page — a post less than ``MIN_AGE`` after the page was served is a script, and a page older than
``MAX_AGE`` must be reloaded (the notice may have ended, and an old token must not be replayable).
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from .public import Notice
from .services import FEEDBACK_MAX

TOKEN_SALT = "jishi.public.feedback"
MIN_AGE = 3  # seconds
MAX_AGE = 2 * 60 * 60  # seconds
HONEYPOT = "remark"
GENERIC_REFUSAL = _("提交未成功，请刷新页面后重新填写提交。")
TOO_FAST = _("提交过快，请核对内容后稍候再提交。")
STALE = _("页面打开时间过长，请刷新页面后重新提交（已填写的内容仍保留在下方）。")


def feedback_token(slug: str) -> str:
    """A token bound to this notice and to the moment the page was served."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(slug)


def token_age(token: str, slug: str) -> float:
    """Seconds since the token was issued; raises ``ValidationError`` if it is forged, foreign or stale."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    try:
        value = signer.unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise forms.ValidationError(STALE, code="stale") from None
    except signing.BadSignature:
        raise forms.ValidationError(GENERIC_REFUSAL, code="bad_token") from None
    if value != slug:
        raise forms.ValidationError(GENERIC_REFUSAL, code="bad_token")
    issued = signing.b62_decode(token.rsplit(signer.sep, 2)[1])
    return time.time() - issued


class FeedbackForm(forms.Form):
    person = forms.ChoiceField(label=_("反映对象"))
    content = forms.CharField(
        label=_("反映内容"),
        widget=forms.Textarea(attrs={"rows": 8}),
        min_length=10,
        max_length=FEEDBACK_MAX,
        help_text=_("请具体写明反映的问题（至少 10 个字）。"),
    )
    contact = forms.CharField(
        label=_("联系方式"),
        required=False,
        max_length=100,
        help_text=_("选填，便于核查时联系您；仅核查人员可见。"),
    )
    remark = forms.CharField(  # honeypot: hidden from people by public.css, filled in by bots
        label=_("请勿填写此项"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, notice: Notice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notice = notice
        person = self.fields["person"]
        assert isinstance(person, forms.ChoiceField)
        person.choices = [("", _("请选择")), *((p.key, f"{p.name}（{p.proposed_post}）") for p in notice.people)]

    # The token is not a form field: the page renders a fresh one on every render (also after an error),
    # so a person who was refused can simply submit again.

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get(HONEYPOT):
            raise forms.ValidationError(GENERIC_REFUSAL, code="honeypot")
        if token_age(self.data.get("token") or "", self.notice.slug) < MIN_AGE:
            raise forms.ValidationError(TOO_FAST, code="too_fast")
        return cleaned
