from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "cordon.screening"
    label = "screening"
    verbose_name = "Mass screening"
