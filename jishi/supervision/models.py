"""Supervision state: early warnings, the working-day overrides, notifications, public feedback on a 任前公示
and supervisors' reviews of key-post nominations. Written only by ``supervision.services`` (each change with
its ledger event); a warning is never deleted — the database refuses it (migration 0002)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from jishi.accounts.models import OrgUnit
from jishi.selection.models import Batch, Nomination, StepRecord

User = settings.AUTH_USER_MODEL


class Severity(models.TextChoices):
    BLOCK = "block", "阻断"
    WARN = "warn", "预警"
    INFO = "info", "提示"


class WarningStatus(models.TextChoices):
    OPEN = "open", "未处理"
    RESOLVED = "resolved", "已消除"
    EXPLAINED = "explained", "已说明"


class EarlyWarning(models.Model):
    """预警 — one rule finding about one subject, open until an action clears it or a signed explanation."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="组织部门")
    rule_code = models.CharField("规则编号", max_length=20, db_index=True)
    severity = models.CharField("级别", max_length=10, choices=Severity.choices)
    fingerprint = models.CharField("预警标识", max_length=200, help_text="rule + subject; one open warning each")
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="warnings", verbose_name="调整批次"
    )
    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, null=True, blank=True, related_name="warnings", verbose_name="人选"
    )
    record = models.ForeignKey(
        StepRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="warnings", verbose_name="步骤纪实"
    )
    step_id = models.CharField("步骤", max_length=40, blank=True)
    message = models.TextField("预警内容")
    basis = models.CharField("依据", max_length=300, blank=True)
    due_on = models.DateField("期限", null=True, blank=True)
    raised_at = models.DateTimeField("发出时间")
    status = models.CharField("状态", max_length=12, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="处理人"
    )
    closing_note = models.TextField("处理情况", blank=True)
    closing_event_hash = models.CharField("台账事件哈希", max_length=64, blank=True)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=Q(status="open"), name="supervision_warning_one_open_per_subject"
            )
        ]
        indexes = [models.Index(fields=["org_unit", "status", "severity"], name="supervision_warning_board")]

    def __str__(self) -> str:
        return f"{self.rule_code} {self.message[:40]}"

    @property
    def is_open(self) -> bool:
        return self.status == WarningStatus.OPEN


class WorkdayOverride(models.Model):
    """工作日调整 — an administrator's correction of the calendar for one date (新公布的放假安排、调休)."""

    day = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("是否工作日")
    note = models.CharField("说明", max_length=200)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="录入人")
    created_at = models.DateTimeField("录入时间")

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.is_working_day else '休息'}"


class Notification(models.Model):
    """站内通知 — an item in a user's inbox (assignee reminders, warnings for supervisors)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", verbose_name="接收人")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    warning = models.ForeignKey(
        EarlyWarning, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications", verbose_name="预警"
    )
    created_at = models.DateTimeField("时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="supervision_inbox")]

    def __str__(self) -> str:
        return self.title


class FeedbackStatus(models.TextChoices):
    OPEN = "open", "待核查"
    VERIFIED = "verified", "已核查"


class PublicFeedback(models.Model):
    """公示期间反映 — a report from the public about a person on a 任前公示 notice."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, related_name="public_feedback", verbose_name="人选"
    )
    received_at = models.DateTimeField("收到时间")
    content = models.TextField("反映内容")
    contact_encrypted = models.TextField("联系方式（加密）", blank=True)
    source_hash = models.CharField("来源摘要", max_length=64, help_text="keyed hash of the sender's address")
    status = models.CharField("状态", max_length=12, choices=FeedbackStatus.choices, default=FeedbackStatus.OPEN)
    verification = models.TextField("核查结论", blank=True)
    affects_appointment = models.BooleanField("是否影响任职", null=True, blank=True)
    verified_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="核查人"
    )
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示期间反映"
        verbose_name_plural = "公示期间反映"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.nomination} {self.received_at:%Y-%m-%d}"


class KeyPostReview(models.Model):
    """重要岗位动议审核 — a supervisor's signed review of a key-post nomination before 民主推荐."""

    nomination = models.OneToOneField(
        Nomination, on_delete=models.PROTECT, related_name="key_post_review", verbose_name="人选"
    )
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="审核人")
    approved = models.BooleanField("审核意见（同意）")
    opinion = models.TextField("审核意见")
    reviewed_at = models.DateTimeField("审核时间")
    event_hash = models.CharField("台账事件哈希", max_length=64)

    class Meta:
        verbose_name = "重要岗位动议审核"
        verbose_name_plural = "重要岗位动议审核"

    def __str__(self) -> str:
        return f"{self.nomination} {'同意' if self.approved else '不同意'}"
