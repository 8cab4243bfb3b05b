"""Forms only clean input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import OrgUnit

from .models import RankLevel


class LrmxUploadForm(forms.Form):
    # Any unit: whether the user may import into it is the service's decision (403), not a form error.
    org_unit = forms.ModelChoiceField(queryset=OrgUnit.objects.all(), label=_("导入到"), empty_label=None)
    file = forms.FileField(label=_("任免审批表文件（.lrmx）"))


class LrmxConfirmForm(forms.Form):
    sha256 = forms.CharField(min_length=64, max_length=64, widget=forms.HiddenInput)
    # Not on the 任免审批表; asked only when the file is a new cadre.
    current_rank = forms.ChoiceField(label=_("现任职级"), choices=[("", "—"), *RankLevel.choices], required=False)
    current_post_since = forms.CharField(
        label=_("任现职时间（年-月）"),
        max_length=7,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2015-03"}),
    )
    current_rank_since = forms.CharField(
        label=_("任现职级时间（年-月，默认同任现职时间）"), max_length=7, required=False
    )
