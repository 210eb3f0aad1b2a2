from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "cordon.care"
    label = "care"
    verbose_name = "Emergency medical care"

    def ready(self):
        from cordon.care.models import CareRequest, Hospital, Vehicle
        from cordon.core import stamps

        stamps.watch("care", CareRequest, Hospital, Vehicle)
