from django.apps import AppConfig


class SituationConfig(AppConfig):
    name = "cordon.situation"
    label = "situation"
    verbose_name = "Situation, bulletins and the daily close"

    def ready(self):
        from .uploads import register

        register()  # aggregate counts: a kind of file uploaded from the browser (core.uploads)
