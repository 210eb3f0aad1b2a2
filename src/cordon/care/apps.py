from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "cordon.care"
    label = "care"
    verbose_name = "Emergency medical care"
