from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "jishi.procedures"
    label = "procedures"
    verbose_name = "流程定义"
