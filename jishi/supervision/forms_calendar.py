"""Forms of the calendar page: they only clean; the services decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

FIRST_YEAR, LAST_YEAR = 2000, 2100
WORKING_CHOICES = [("1", _("上班")), ("0", _("休息"))]


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise forms.ValidationError(_("请填写 %(a)s—%(b)s 年之间的日期。"), params={"a": FIRST_YEAR, "b": LAST_YEAR})
    return day


class MonthForm(forms.Form):
    """The month to show (GET); anything invalid falls back to the current month."""

    year = forms.IntegerField(min_value=FIRST_YEAR, max_value=LAST_YEAR)
    month = forms.IntegerField(min_value=1, max_value=12)

    def month_or(self, today: dt.date) -> tuple[int, int]:
        if self.is_valid():
            return self.cleaned_data["year"], self.cleaned_data["month"]
        return today.year, today.month


class OverrideForm(forms.Form):
    day = forms.DateField(
        label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), input_formats=["%Y-%m-%d"]
    )
    is_working_day = forms.TypedChoiceField(
        label=_("当天"),
        choices=WORKING_CHOICES,
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择当天上班还是休息。")},
    )
    note = forms.CharField(
        label=_("说明"),
        max_length=200,
        help_text=_("如“国务院办公厅关于 2027 年部分节假日安排的通知”"),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def clean_day(self) -> dt.date:
        return _in_range(self.cleaned_data["day"])


class OverrideRemoveForm(forms.Form):
    day = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d"])
    note = forms.CharField(
        label=_("撤销原因"), max_length=200, error_messages={"required": _("请填写撤销原因，200 字以内。")}
    )

    def clean_day(self) -> dt.date:
        return _in_range(self.cleaned_data["day"])

    def day_text(self) -> str:
        """The posted date as typed, to find the row the errors belong to."""
        return str(self.data.get(self.add_prefix("day"), "")) if self.is_bound else ""

    def note_text(self) -> str:
        """The reason as typed, kept in the row when the removal is refused."""
        return str(self.data.get(self.add_prefix("note"), "")) if self.is_bound else ""
