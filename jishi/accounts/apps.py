from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jishi.accounts"
    label = "accounts"
    verbose_name = "账户与机构"
