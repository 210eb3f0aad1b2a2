from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "cordon.places"
    label = "places"
    verbose_name = "City model"

    def ready(self):
        from cordon.core import stamps

        from .models import Resident
        from .uploads import register

        register()  # residents: a kind of file uploaded from the browser (core.uploads)

        # the screening import's in-memory index of residents is trusted while this stamp stands still
        stamps.watch("residents", Resident)
