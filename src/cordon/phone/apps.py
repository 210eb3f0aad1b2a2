from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "cordon.phone"
    label = "phone"
    verbose_name = "Phone app"
