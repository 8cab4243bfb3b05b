from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jishi.accounts"
    label = "accounts"
    verbose_name = "账户与机构"

    def ready(self) -> None:
        from . import audit_hooks  # noqa: F401  (authentication audit: signal receivers)
