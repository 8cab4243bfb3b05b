from django.apps import AppConfig


class SelectionConfig(AppConfig):
    name = "jishi.selection"
    label = "selection"
    verbose_name = "选拔任用"
