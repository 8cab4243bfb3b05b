"""Forms only clean input; the rules live in services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import OrgUnit
from jishi.cadres.models import Cadre, Position

from .models import BatchKind, NotebookKind


class BatchForm(forms.Form):
    org_unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("组织部门"), empty_label=None)
    title = forms.CharField(label=_("批次名称"), max_length=200)
    kind = forms.ChoiceField(label=_("选拔类型"), choices=BatchKind.choices)
    reason = forms.CharField(label=_("调整事由"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    positions = forms.ModelMultipleChoiceField(
        queryset=Position.objects.none(), label=_("拟任职位"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["org_unit"]).queryset = OrgUnit.objects.filter(
            pk__in=[u.pk for u in units]
        )
        cast(forms.ModelMultipleChoiceField, self.fields["positions"]).queryset = Position.objects.filter(
            org_unit__in=units
        ).select_related("org_unit")


class NominationForm(forms.Form):
    cadre = forms.ModelChoiceField(queryset=Cadre.objects.none(), label=_("干部"), empty_label=_("请选择干部"))
    position = forms.ModelChoiceField(
        queryset=Position.objects.none(), label=_("拟任职位"), empty_label=_("请选择职位")
    )

    def __init__(self, *args: Any, batch: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        taken = batch.nominations.values_list("cadre", flat=True)
        cast(forms.ModelChoiceField, self.fields["cadre"]).queryset = Cadre.objects.filter(
            org_unit=batch.org_unit
        ).exclude(pk__in=taken)
        cast(forms.ModelChoiceField, self.fields["position"]).queryset = batch.positions.all()


class DropForm(forms.Form):
    reason = forms.CharField(label=_("退出原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class NotebookForm(forms.Form):
    item_id = forms.CharField(label=_("纪实项目"), required=False)
    kind = forms.ChoiceField(label=_("类别"), choices=NotebookKind.choices)
    occurred_at = forms.DateTimeField(
        label=_("时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        error_messages={"invalid": _("请填写有效的日期和时间。"), "required": _("请填写时间。")},
    )
    place = forms.CharField(label=_("地点"), max_length=100)
    participants = forms.CharField(label=_("参加人员"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    content = forms.CharField(label=_("主要内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class MaterialForm(forms.Form):
    item_id = forms.CharField(label=_("纪实项目"))
    title = forms.CharField(label=_("题名"), max_length=200)
    document_number = forms.CharField(label=_("文号"), max_length=100, required=False)
    pages = forms.IntegerField(label=_("页数"), min_value=1, max_value=10000, initial=1)
    file = forms.FileField(label=_("电子文件（可选）"), required=False)


class WaiveForm(forms.Form):
    reason = forms.CharField(label=_("免除理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    legal_basis = forms.CharField(label=_("免除依据"), max_length=500)


class CorrectForm(forms.Form):
    reason = forms.CharField(label=_("更正理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
