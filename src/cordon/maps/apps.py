from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "cordon.maps"
    label = "maps"
    verbose_name = "Maps"
