from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "jishi.api"
    verbose_name = "接口"
