from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "jishi.documents"
    verbose_name = "纪实文书"
