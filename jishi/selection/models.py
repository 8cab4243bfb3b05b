"""Selection workflow state. Every row here is written by a service in selection.services,
in the same transaction as its ledger event; corrections add rows, they never edit old ones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from jishi.accounts.models import OrgUnit
from jishi.cadres.models import Cadre, Position
from jishi.procedures.models import ProcedureVersion

User = settings.AUTH_USER_MODEL


class BatchKind(models.TextChoices):
    ROUTINE = "routine", "日常调整"
    TERM = "term", "换届选拔"
    COMPETITIVE = "competitive", "竞争性选拔"


class Batch(models.Model):
    """调整批次 — one round of cadre adjustments (一批一档)."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="batches", verbose_name="组织部门")
    number = models.CharField("批次编号", max_length=40, unique=True)
    title = models.CharField("批次名称", max_length=200)
    kind = models.CharField("选拔类型", max_length=20, choices=BatchKind.choices, default=BatchKind.ROUTINE)
    reason = models.TextField("调整事由", blank=True)
    procedure = models.ForeignKey(ProcedureVersion, on_delete=models.PROTECT, related_name="+", verbose_name="流程版本")
    positions = models.ManyToManyField(Position, related_name="batches", verbose_name="拟任职位")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="创建人")
    created_at = models.DateTimeField("创建时间")
    finished_at = models.DateTimeField(
        "办结时间",
        null=True,
        blank=True,
        help_text="set by the services when the last step is done; lists filter on it instead of reading records",
    )

    class Meta:
        verbose_name = "调整批次"
        verbose_name_plural = "调整批次"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["org_unit", "finished_at"], name="batch_unit_finished")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class NominationStatus(models.TextChoices):
    ACTIVE = "active", "进行中"
    DROPPED = "dropped", "已退出"


class Nomination(models.Model):
    """人选 — a cadre proposed for a position in a batch; one per person (一人一表)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="nominations", verbose_name="调整批次")
    cadre = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="nominations", verbose_name="干部")
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, related_name="nominations", verbose_name="拟任职位"
    )
    number = models.CharField("纪实表编号", max_length=50, unique=True)
    status = models.CharField("状态", max_length=20, choices=NominationStatus.choices, default=NominationStatus.ACTIVE)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="提出人")
    added_at = models.DateTimeField("提出时间")
    dropped_reason = models.TextField("退出原因", blank=True)
    dropped_at_step = models.CharField("退出时所处步骤", max_length=40, blank=True)
    dropped_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="退出操作人"
    )
    dropped_at = models.DateTimeField("退出时间", null=True, blank=True)

    class Meta:
        verbose_name = "人选"
        verbose_name_plural = "人选"
        ordering = ["batch", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "cadre"], name="selection_nomination_one_per_person")]

    def __str__(self) -> str:
        return f"{self.cadre.name} → {self.position}"

    @property
    def is_active(self) -> bool:
        return self.status == NominationStatus.ACTIVE


class RecordStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "办理中"
    COMPLETED = "completed", "已完成"
    WAIVED = "waived", "已免除"


class StepRecord(models.Model):
    """步骤纪实 — what happened at one step, for the batch or for one nomination.

    A correction is a new completed record naming the record it corrects; the old one is kept.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="records", verbose_name="调整批次")
    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, null=True, blank=True, related_name="records", verbose_name="人选"
    )
    step_id = models.CharField("步骤编号", max_length=40)
    status = models.CharField("状态", max_length=20, choices=RecordStatus.choices, default=RecordStatus.IN_PROGRESS)
    data = models.JSONField("纪实内容", default=dict)
    revision = models.PositiveIntegerField("修订号", default=0, help_text="每次保存内容加一；确认只对当前修订有效")
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="开始人")
    started_at = models.DateTimeField("开始时间")
    completed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="完成人"
    )
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    waiver_reason = models.TextField("免除理由", blank=True)
    waiver_basis = models.TextField("免除依据", blank=True)
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by", verbose_name="更正的记录"
    )
    correction_reason = models.TextField("更正理由", blank=True)

    class Meta:
        verbose_name = "步骤纪实"
        verbose_name_plural = "步骤纪实"
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "step_id"],
                condition=Q(nomination__isnull=True, corrects__isnull=True),
                name="selection_record_one_batch_step",
            ),
            models.UniqueConstraint(
                fields=["nomination", "step_id"],
                condition=Q(corrects__isnull=True),
                name="selection_record_one_nomination_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch.number} {self.step_id}"

    @property
    def is_done(self) -> bool:
        return self.status in (RecordStatus.COMPLETED, RecordStatus.WAIVED)


class Confirmation(models.Model):
    """责任人确认 — a responsible person confirms the record's current revision in one role."""

    record = models.ForeignKey(
        StepRecord, on_delete=models.PROTECT, related_name="confirmations", verbose_name="步骤纪实"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="confirmations", verbose_name="确认人")
    role = models.CharField("确认身份", max_length=30)
    revision = models.PositiveIntegerField("确认的修订号")
    confirmed_at = models.DateTimeField("确认时间")
    event_hash = models.CharField("台账事件哈希", max_length=64)

    class Meta:
        verbose_name = "责任人确认"
        verbose_name_plural = "责任人确认"
        ordering = ["record", "confirmed_at"]
        constraints = [
            models.UniqueConstraint(fields=["record", "role", "revision"], name="selection_confirmation_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} 以 {self.role} 身份确认 {self.record}"


class NotebookKind(models.TextChoices):
    HEARING = "hearing", "听取意见"
    PROPOSAL = "proposal", "研究方案"
    SOLICITING = "soliciting", "征求意见"
    TALK = "talk", "谈话"
    MEETING = "meeting", "会议"
    OTHER = "other", "其他"


class NotebookEntry(models.Model):
    """纪实笔记 — an entry of the dedicated documentation notebook (纪实专用笔记本)."""

    record = models.ForeignKey(StepRecord, on_delete=models.PROTECT, related_name="notebook", verbose_name="步骤纪实")
    item_id = models.CharField("纪实项目", max_length=40, blank=True)
    kind = models.CharField("类别", max_length=20, choices=NotebookKind.choices)
    occurred_at = models.DateTimeField("时间")
    place = models.CharField("地点", max_length=100)
    participants = models.TextField("参加人员")
    content = models.TextField("主要内容")
    recorder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    created_at = models.DateTimeField("录入时间")

    class Meta:
        verbose_name = "纪实笔记"
        verbose_name_plural = "纪实笔记"
        ordering = ["record", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Material(models.Model):
    """纪实材料 — a registered document (original, copy or electronic file) for a documentation item."""

    record = models.ForeignKey(StepRecord, on_delete=models.PROTECT, related_name="materials", verbose_name="步骤纪实")
    item_id = models.CharField("纪实项目", max_length=40)
    title = models.CharField("题名", max_length=200)
    document_number = models.CharField("文号", max_length=100, blank=True)
    pages = models.PositiveIntegerField("页数", default=1)
    sha256 = models.CharField("文件摘要", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("文件大小", default=0)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    kind = models.CharField("文件类型", max_length=10, blank=True, help_text="sniffed from the content")
    registered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="登记人")
    registered_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "纪实材料"
        verbose_name_plural = "纪实材料"
        ordering = ["record", "id"]

    def __str__(self) -> str:
        return self.title


class TallyKind(models.TextChoices):
    RECOMMENDATION = "recommendation", "推荐"
    ASSESSMENT = "assessment", "测评"
    DECISION = "decision", "表决"


class VoteTally(models.Model):
    """计票 — attendance and ballots of a recommendation, assessment or decision vote."""

    record = models.OneToOneField(StepRecord, on_delete=models.PROTECT, related_name="tally", verbose_name="步骤纪实")
    kind = models.CharField("类别", max_length=20, choices=TallyKind.choices)
    due = models.PositiveIntegerField("应到人数")
    present = models.PositiveIntegerField("实到人数")
    valid_ballots = models.PositiveIntegerField("有效票数")

    class Meta:
        verbose_name = "计票"
        verbose_name_plural = "计票"
        constraints = [
            models.CheckConstraint(condition=Q(present__lte=models.F("due")), name="selection_tally_present_le_due"),
            models.CheckConstraint(
                condition=Q(valid_ballots__lte=models.F("present")), name="selection_tally_valid_le_present"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} 应到{self.due} 实到{self.present}"


class VoteLine(models.Model):
    """计票明细 — one candidate's votes."""

    tally = models.ForeignKey(VoteTally, on_delete=models.PROTECT, related_name="lines", verbose_name="计票")
    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="+", verbose_name="人选")
    approve = models.PositiveIntegerField("同意（推荐）")
    oppose = models.PositiveIntegerField("不同意")
    abstain = models.PositiveIntegerField("弃权")
    defer = models.PositiveIntegerField("缓议", default=0)

    class Meta:
        verbose_name = "计票明细"
        verbose_name_plural = "计票明细"
        constraints = [
            models.UniqueConstraint(fields=["tally", "nomination"], name="selection_voteline_one_per_candidate")
        ]

    def __str__(self) -> str:
        return f"同意{self.approve} 不同意{self.oppose} 弃权{self.abstain} 缓议{self.defer}"
