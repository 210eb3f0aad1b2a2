from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cordon.web"
    label = "web"
