from django.apps import AppConfig


class SuppliesConfig(AppConfig):
    name = "cordon.supplies"
    label = "supplies"
    verbose_name = "Supplies"
