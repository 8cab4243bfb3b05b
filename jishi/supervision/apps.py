from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "jishi.supervision"
    label = "supervision"
    verbose_name = "监督预警"
