from django.apps import AppConfig

from cordon.care import triage


class CareConfig(AppConfig):
    name = "cordon.care"
    label = "care"
    verbose_name = "Emergency medical care"

    def ready(self):
        from cordon.care.models import CareRequest, Hospital, Vehicle
        from cordon.core import stamps

        stamps.watch("care", CareRequest, Hospital, Vehicle)
        triage.table()  # a mistake in triage.yaml stops start-up with its FILE:LINE
        from cordon.care import links
        from cordon.places import hooks

        hooks.connect("care.requests", links.resident_requests, hooks.RESIDENT_SECTIONS)
