"""安全审计记录 — one row per security-relevant event, append-only in the database itself.

The selection ledger (jishi.ledger) records *what was done to a selection*; this table records
*who tried to get in or see what* (logins, lockouts, permission changes, views and exports of
sensitive records, refused access), as 等保 安全审计 and 网络安全法 Art. 21 ask: kept online at
least 184 days, readable only by the 安全审计员.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# The legal minimum (6 calendar months can be 184 days); the database refuses earlier deletion.
MIN_RETENTION_DAYS = 184


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"


class AuditRecord(models.Model):
    """安全审计记录."""

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    event = models.CharField("事件类型", max_length=50, db_index=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    # No foreign key: a record must outlive any change to the user table and never cascade.
    user_id = models.BigIntegerField("用户ID", null=True, blank=True, db_index=True)
    username = models.CharField("用户名", max_length=150, blank=True, db_index=True)
    roles = models.CharField("角色", max_length=300, blank=True)
    org_unit = models.CharField("机构", max_length=20, blank=True)
    object_type = models.CharField("对象类型", max_length=50, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True)
    method = models.CharField("请求方法", max_length=10, blank=True)
    path = models.CharField("请求路径", max_length=300, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    user_agent = models.CharField("客户端", max_length=200, blank=True)
    request_id = models.CharField("请求标识", max_length=36, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "安全审计记录"
        verbose_name_plural = "安全审计记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["event", "-at"], name="audit_event_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.event} {self.outcome}"
