from django.apps import AppConfig


class ArchivesConfig(AppConfig):
    name = "jishi.archives"
    verbose_name = "档案"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
