from django.apps import AppConfig


class KeyplacesConfig(AppConfig):
    name = "cordon.keyplaces"
    label = "keyplaces"
    verbose_name = "Key places"

    def ready(self):
        from cordon.core import stamps
        from cordon.keyplaces.models import Breach, KeyPlace, Movement, Person, SiteTest

        stamps.watch("keyplaces", KeyPlace, Person, Movement, SiteTest, Breach)
