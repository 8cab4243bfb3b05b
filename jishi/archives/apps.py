from django.apps import AppConfig


class ArchivesConfig(AppConfig):
    name = "jishi.archives"
    verbose_name = "档案"
