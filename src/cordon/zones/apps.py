from django.apps import AppConfig


class ZonesConfig(AppConfig):
    name = "cordon.zones"
    label = "zones"
    verbose_name = "Risk areas"
