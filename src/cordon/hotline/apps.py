from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "cordon.hotline"
    label = "hotline"
    verbose_name = "24-hour hotline desk"
