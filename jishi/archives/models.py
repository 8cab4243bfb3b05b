"""Archive volumes (案卷) and items (件), 档号 sequences, hand-over to the personnel file, holds and
disposition. Rows change only through ``archives.services``, each change with its ledger event."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from jishi.accounts.models import OrgUnit
from jishi.selection.models import Batch, Nomination

User = settings.AUTH_USER_MODEL


class VolumeKind(models.TextChoices):
    PERSONAL = "personal", "干部任用个人文书档案"
    BATCH = "batch", "干部任用综合文书档案"


class VolumeStatus(models.TextChoices):
    DRAFT = "draft", "待整理"
    ORGANIZED = "organized", "已整理待检查"
    ARCHIVED = "archived", "已归档"


class Volume(models.Model):
    """案卷 — the personal file of one appointed cadre (一人一表) or the comprehensive file of a batch (一批一档)."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="立档单位")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="volumes", verbose_name="调整批次")
    nomination = models.OneToOneField(
        Nomination, on_delete=models.PROTECT, null=True, blank=True, related_name="volume", verbose_name="人选"
    )
    kind = models.CharField("类型", max_length=20, choices=VolumeKind.choices)
    code = models.CharField("案卷编号", max_length=80, unique=True)
    title = models.CharField("题名", max_length=300)
    year = models.PositiveIntegerField("年度")
    org_code = models.CharField("机构（问题）代码", max_length=20)
    status = models.CharField("状态", max_length=20, choices=VolumeStatus.choices, default=VolumeStatus.DRAFT)
    builds = models.PositiveIntegerField("组卷次数", default=0)
    built_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="组卷人")
    built_at = models.DateTimeField("组卷时间")
    notes = models.TextField("盒内文件情况说明", blank=True)
    organized_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="整理人"
    )
    organized_at = models.DateTimeField("整理时间", null=True, blank=True)
    organize_event = models.PositiveBigIntegerField("整理事件序号", null=True, blank=True)
    checked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="检查人"
    )
    checked_at = models.DateTimeField("检查时间", null=True, blank=True)
    accept_event = models.PositiveBigIntegerField("验收事件序号", null=True, blank=True)

    class Meta:
        verbose_name = "案卷"
        verbose_name_plural = "案卷"
        ordering = ["batch", "kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch"], condition=Q(kind="batch"), name="archives_volume_one_batch_volume"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_archived(self) -> bool:
        return self.status == VolumeStatus.ARCHIVED


class ItemType(models.TextChoices):
    RECORD = "record", "纪实记录"
    MATERIAL = "material", "纪实材料"
    REPORT_FORM = "report_form", "全程纪实报告表"
    APPROVAL_FORM = "approval_form", "干部任免审批表"
    NOTEBOOK = "notebook", "纪实专用笔记本"


class Carrier(models.TextChoices):
    ELECTRONIC = "electronic", "电子"
    PAPER = "paper", "纸质"


class Retention(models.TextChoices):
    PERMANENT = "Y", "永久"
    D30 = "D30", "定期30年"
    D10 = "D10", "定期10年"


class ArchiveItem(models.Model):
    """件 — one filed document of a volume, in procedure order, with its 档号 once the volume is accepted."""

    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="items", verbose_name="案卷")
    position = models.PositiveIntegerField("卷内序号")
    item_type = models.CharField("文件类型", max_length=20, choices=ItemType.choices)
    item_id = models.CharField("纪实项目", max_length=40, blank=True)
    step_id = models.CharField("步骤", max_length=40, blank=True)
    title = models.CharField("题名", max_length=300)
    responsible = models.CharField("责任者", max_length=200)
    date = models.DateField("日期")
    document_number = models.CharField("文号", max_length=100, blank=True)
    pages = models.PositiveIntegerField("页数", default=1)
    secrecy = models.CharField("密级", max_length=20, default="内部")
    retention = models.CharField("保管期限", max_length=4, choices=Retention.choices)
    remarks = models.CharField("备注", max_length=300, blank=True)
    carrier = models.CharField("载体", max_length=20, choices=Carrier.choices)
    sha256 = models.CharField("文件摘要", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("文件大小", default=0)
    file_format = models.CharField("格式", max_length=10, blank=True)
    source_type = models.CharField("来源类型", max_length=20)
    source_id = models.PositiveBigIntegerField("来源编号")
    ledger_seq = models.PositiveBigIntegerField("登记事件序号", null=True, blank=True)
    fonds = models.CharField("全宗号", max_length=20)
    year = models.PositiveIntegerField("年度")
    org_code = models.CharField("机构（问题）代码", max_length=20)
    number = models.PositiveIntegerField("件号", null=True, blank=True)
    code = models.CharField("档号", max_length=80, blank=True)
    destroyed = models.BooleanField("已销毁", default=False)

    class Meta:
        verbose_name = "归档文件"
        verbose_name_plural = "归档文件"
        ordering = ["volume", "position"]
        constraints = [
            models.UniqueConstraint(fields=["volume", "position"], name="archives_item_unique_position"),
            models.UniqueConstraint(
                fields=["fonds", "year", "retention", "org_code", "number"],
                condition=Q(number__isnull=False),
                name="archives_item_unique_number",
            ),
        ]

    def __str__(self) -> str:
        return self.code or self.title


class NumberSequence(models.Model):
    """件号 counter per (全宗, 年度, 保管期限, 机构（问题）) — locked while a volume takes its numbers."""

    fonds = models.CharField("全宗号", max_length=20)
    year = models.PositiveIntegerField("年度")
    retention = models.CharField("保管期限", max_length=4, choices=Retention.choices)
    org_code = models.CharField("机构（问题）代码", max_length=20)
    last = models.PositiveIntegerField("已用最大件号", default=0)

    class Meta:
        verbose_name = "件号序列"
        verbose_name_plural = "件号序列"
        constraints = [
            models.UniqueConstraint(fields=["fonds", "year", "retention", "org_code"], name="archives_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.fonds}·{self.year}-{self.retention}-{self.org_code}: {self.last}"


class PersonnelTransfer(models.Model):
    """干部人事档案材料移交 — the signed hand-over of a cadre's materials (category 9-2 任免 …)."""

    volume = models.OneToOneField(Volume, on_delete=models.PROTECT, related_name="transfer", verbose_name="案卷")
    rows = models.JSONField("移交材料", default=list, help_text="[{item, category}] in hand-over order")
    handed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="移交人")
    received_by = models.CharField("接收人", max_length=100)
    handed_at = models.DateTimeField("移交时间")
    event_seq = models.PositiveBigIntegerField("移交事件序号")

    class Meta:
        verbose_name = "人事档案移交"
        verbose_name_plural = "人事档案移交"

    def __str__(self) -> str:
        return f"{self.volume} → {self.received_by}"


class LegalHold(models.Model):
    """冻结（法律保全） — while active, no item of the volume may be destroyed."""

    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="holds", verbose_name="案卷")
    reason = models.TextField("冻结理由")
    placed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="冻结人")
    placed_at = models.DateTimeField("冻结时间")
    released_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="解除人"
    )
    released_at = models.DateTimeField("解除时间", null=True, blank=True)
    release_reason = models.TextField("解除理由", blank=True)

    class Meta:
        verbose_name = "档案冻结"
        verbose_name_plural = "档案冻结"
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"{self.volume} 冻结"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class DispositionStatus(models.TextChoices):
    PROPOSED = "proposed", "待批准"
    APPROVED = "approved", "已批准待执行"
    REJECTED = "rejected", "未批准"
    EXECUTED = "executed", "已销毁"


class Disposition(models.Model):
    """到期鉴定与销毁 — a list of expired items; destroyed only after approval, with signed records."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="立档单位")
    title = models.CharField("题名", max_length=200)
    reason = models.TextField("鉴定意见")
    items = models.ManyToManyField(ArchiveItem, related_name="dispositions", verbose_name="销毁文件")
    status = models.CharField(
        "状态", max_length=20, choices=DispositionStatus.choices, default=DispositionStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="提出人")
    proposed_at = models.DateTimeField("提出时间")
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="批准人"
    )
    decided_at = models.DateTimeField("批准时间", null=True, blank=True)
    decision_note = models.TextField("批准意见", blank=True)
    executed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="执行人"
    )
    executed_at = models.DateTimeField("执行时间", null=True, blank=True)

    class Meta:
        verbose_name = "档案销毁"
        verbose_name_plural = "档案销毁"
        ordering = ["-proposed_at"]

    def __str__(self) -> str:
        return self.title
