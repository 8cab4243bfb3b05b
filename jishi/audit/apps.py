from django.apps import AppConfig


class AuditConfig(AppConfig):
    """安全审计 — append-only security audit (等保 安全审计 a–d), separate from the selection ledger."""

    name = "jishi.audit"
    verbose_name = "安全审计"
