from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "cordon.places"
    label = "places"
    verbose_name = "City model"
