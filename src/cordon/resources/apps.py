from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "cordon.resources"
    label = "resources"
    verbose_name = "Resources"
