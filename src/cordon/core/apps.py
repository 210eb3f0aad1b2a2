from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cordon.core"
    label = "core"
    verbose_name = "Cordon core"

    def ready(self):
        from cordon.core import signals  # noqa: F401
