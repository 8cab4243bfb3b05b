"""Forms of the archive pages: what the clerk types (notes, reasons, the signing PIN), never model rows.

Each form gets its own ``auto_id`` so several can share a page without clashing ids while their field
names stay plain (``pin``, ``notes``). The PIN is never rendered back after a refusal; the text is.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _


def _pin() -> forms.CharField:
    return forms.CharField(
        label=_("签名口令"),
        max_length=64,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


def _text(label: Any, rows: int = 3, max_length: int = 2000, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class _Named(forms.Form):
    """A form whose element ids start with ``name`` (one page shows several forms)."""

    name = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.name}-%s")
        super().__init__(*args, **kwargs)


class OrganizeForm(_Named):
    name = "organize"
    notes = _text(_("盒内文件情况说明"), rows=4, required=False)
    pin = _pin()


class AcceptForm(_Named):
    name = "accept"
    pin = _pin()


class TransferForm(_Named):
    name = "transfer"
    received_by = forms.CharField(label=_("接收人"), max_length=100)
    pin = _pin()


class HoldForm(_Named):
    name = "hold"
    reason = _text(_("冻结理由"))


class ReleaseForm(_Named):
    name = "release"
    reason = _text(_("解除理由"), rows=2)


class IdListField(forms.Field):
    """The ids of the ticked rows (``<input type=checkbox name=items value=pk>``), as ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("所选文件无效。"), code="invalid") from None


class ProposeForm(_Named):
    """到期鉴定: the ticked items come as ``items``; the service decides whether they have expired."""

    name = "propose"
    title = forms.CharField(label=_("题名"), max_length=200)
    reason = _text(_("鉴定意见"), rows=4)
    items = IdListField(label=_("销毁文件"), error_messages={"required": _("请选择要鉴定销毁的到期文件。")})

    def checked(self) -> set[int]:
        """The ticked ids, to keep them ticked when the page comes back with an error."""
        if not self.is_bound:
            return set()
        values = self.data.getlist("items") if isinstance(self.data, QueryDict) else self.data.get("items", [])
        return {int(v) for v in values if str(v).isdigit()}


class DecideForm(_Named):
    name = "decide"
    approve = forms.TypedChoiceField(
        label=_("审批"),
        choices=[("1", _("批准销毁")), ("0", _("不批准"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    note = _text(_("批准意见"), required=False)
    pin = _pin()


class ExecuteForm(_Named):
    name = "execute"
    pin = _pin()
