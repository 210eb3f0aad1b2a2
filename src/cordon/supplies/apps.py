from django.apps import AppConfig

from cordon.supplies.config import config


class SuppliesConfig(AppConfig):
    name = "cordon.supplies"
    label = "supplies"
    verbose_name = "Supplies"

    def ready(self):
        from cordon.places import hooks
        from cordon.supplies import links

        config()  # a mistake in supplies.yaml stops start-up with its FILE:LINE
        hooks.connect("supplies.deliveries", links.resident_deliveries, hooks.RESIDENT_SECTIONS)
