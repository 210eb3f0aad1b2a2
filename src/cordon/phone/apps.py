"""The field workers' installable phone app: their slice offline, changes queued and synced (issue 20)."""
from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "cordon.phone"
    label = "phone"
    verbose_name = "Phone app"

    def ready(self):
        from . import signals  # noqa: F401  (logging out, locking or deactivating an account revokes its devices)
