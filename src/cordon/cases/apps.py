from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cordon.cases"
    label = "cases"
    verbose_name = "Infections and response"

    def ready(self):
        from cordon.cases import links
        from cordon.places import hooks

        hooks.connect("cases.infections", links.resident_infections, hooks.RESIDENT_SECTIONS)
        hooks.connect("cases.orders", links.resident_orders, hooks.RESIDENT_SECTIONS)
        hooks.connect("infections", links.search_infections, hooks.SEARCH)
        hooks.connect("orders", links.search_orders, hooks.SEARCH)
