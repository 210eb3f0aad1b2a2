from django.apps import AppConfig


class CommandConfig(AppConfig):
    name = "cordon.command"
    label = "command"
    verbose_name = "Command orders"

    def ready(self):
        from cordon.command.models import CommandOrder, Recipient
        from cordon.core import stamps

        stamps.watch("command", CommandOrder, Recipient)
