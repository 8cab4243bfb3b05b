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
    checkpoint_every = models.PositiveIntegerField(
        "自动检查点间隔", default=0, help_text="fixed in the genesis event; 0 = no automatic checkpoints"
    )
    frontier = models.JSONField(
        "默克尔树边界", default=list, help_text="subtree roots of the current tree (RFC 9162), left to right"
    )
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


class SystemKey(models.Model):
    """单位系统密钥 — the fonds' administrative Ed25519 key: signs checkpoints and key enrolments.

    The private key is sealed with the server's field-encryption key; its public half is published in
    the chain's genesis event, which is what outside verifiers trust.
    """

    fonds = models.CharField("全宗号", max_length=20, unique=True)
    key_id = models.CharField("密钥标识", max_length=16, unique=True)
    public_key = models.CharField("公钥", max_length=64)
    sealed_private_key = models.TextField("加密私钥")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "单位系统密钥"
        verbose_name_plural = "单位系统密钥"

    def __str__(self) -> str:
        return f"{self.fonds} {self.key_id}"


class Signature(models.Model):
    """电子签名 — an Ed25519 signature over an event (a person confirming, or the unit's system key)."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="signatures", verbose_name="纪实事件")
    key_id = models.CharField("密钥标识", max_length=16)
    signer = models.CharField("签名人", max_length=150, help_text="username, or 'system' for the unit key")
    role = models.CharField("签名身份", max_length=30)
    signature = models.CharField("签名值", max_length=128)
    created_at = models.DateTimeField("签名时间")

    class Meta:
        verbose_name = "电子签名"
        verbose_name_plural = "电子签名"
        constraints = [
            models.UniqueConstraint(fields=["event", "key_id", "role"], name="ledger_signature_unique_event_key_role")
        ]

    def __str__(self) -> str:
        return f"{self.signer}@{self.event_id}"


class Checkpoint(models.Model):
    """检查点 — a signed RFC 9162 Merkle root over the first ``tree_size`` events of a chain."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="checkpoints", verbose_name="哈希链")
    tree_size = models.PositiveBigIntegerField("树大小")
    root = models.CharField("根哈希", max_length=64)
    timestamp = models.CharField("时间", max_length=40)
    key_id = models.CharField("密钥标识", max_length=16)
    signature = models.CharField("签名值", max_length=128)

    class Meta:
        verbose_name = "检查点"
        verbose_name_plural = "检查点"
        ordering = ["chain", "tree_size"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "tree_size"], name="ledger_checkpoint_unique_chain_size")
        ]

    def __str__(self) -> str:
        return f"{self.chain.fonds}@{self.tree_size}"
