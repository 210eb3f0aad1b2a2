from django.apps import AppConfig


class SituationConfig(AppConfig):
    name = "cordon.situation"
    label = "situation"
    verbose_name = "Situation, bulletins and the daily close"
