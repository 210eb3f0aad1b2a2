from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "cordon.hotline"
    label = "hotline"
    verbose_name = "24-hour hotline desk"

    def ready(self):
        from cordon.core import stamps
        from cordon.hotline.config import desk
        from cordon.hotline.models import Shift, Ticket

        stamps.watch("hotline", Ticket, Shift)
        desk()  # a mistake in desk.yaml stops start-up with its FILE:LINE
        from cordon.hotline import links
        from cordon.places import hooks

        hooks.connect("tickets", links.search_tickets, hooks.SEARCH)
