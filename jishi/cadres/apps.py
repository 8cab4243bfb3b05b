from django.apps import AppConfig


class CadresConfig(AppConfig):
    name = "jishi.cadres"
    label = "cadres"
    verbose_name = "干部信息"
