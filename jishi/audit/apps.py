from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    """安全审计 — append-only security audit (等保 安全审计 a–d), separate from the selection ledger."""

    name = "jishi.audit"
    verbose_name = "安全审计"

    def ready(self) -> None:
        from .checks import check_audit_retention

        checks.register(check_audit_retention)
