from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cordon.cases"
    label = "cases"
    verbose_name = "Infections and response"
