from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "cordon.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
