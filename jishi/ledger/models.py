"""Ledger tables (纪实台账). Rows are appended, never updated or deleted — enforced by triggers too."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Chain(models.Model):
    """哈希链 — one per fonds (全宗); holds the head so appends lock one row."""

    fonds = models.CharField("全宗号", max_length=20, unique=True)
    algorithm = models.CharField("摘要算法", max_length=10, default="sha256")
    seq = models.PositiveBigIntegerField("最新序号", default=0)
    head_hash = models.CharField("最新哈希", max_length=64)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "哈希链"
        verbose_name_plural = "哈希链"

    def __str__(self) -> str:
        return f"{self.fonds}#{self.seq}"


class Event(models.Model):
    """纪实事件 — one recorded act, hash-chained to the previous one of its fonds."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="events", verbose_name="哈希链")
    seq = models.PositiveBigIntegerField("序号")
    prev_hash = models.CharField("前一事件哈希", max_length=64)
    hash = models.CharField("事件哈希", max_length=64, unique=True)
    recorded_at = models.DateTimeField("记录时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="操作人"
    )
    actor_name = models.CharField("操作人姓名", max_length=100)
    action = models.CharField("动作", max_length=60, db_index=True)
    subject_type = models.CharField("对象类型", max_length=40)
    subject_id = models.CharField("对象编号", max_length=40)
    payload = models.TextField("内容（规范化 JSON）")

    class Meta:
        verbose_name = "纪实事件"
        verbose_name_plural = "纪实事件"
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="ledger_event_unique_chain_seq")]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="ledger_event_subject")]

    def __str__(self) -> str:
        return f"{self.chain.fonds}#{self.seq} {self.action}"
