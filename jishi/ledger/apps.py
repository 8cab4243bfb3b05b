from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "jishi.ledger"
    label = "ledger"
    verbose_name = "纪实台账"
