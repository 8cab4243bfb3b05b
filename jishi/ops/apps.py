from django.apps import AppConfig


class OpsConfig(AppConfig):
    """运维 — install, health, self-check, backup and restore of an intranet deployment."""

    name = "jishi.ops"
    verbose_name = "运维"
