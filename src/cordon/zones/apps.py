from django.apps import AppConfig


class ZonesConfig(AppConfig):
    name = "cordon.zones"
    label = "zones"
    verbose_name = "Risk areas"

    def ready(self):
        from cordon.cases import hooks
        from cordon.places import hooks as places_hooks
        from cordon.zones import actions, links, queries

        hooks.connect(hooks.NEW_INFECTION, actions.do_apply_infection)
        hooks.connect(hooks.RISK_LEVEL, queries.spillover_level)
        places_hooks.connect("zones", links.area_section, places_hooks.AREA_SECTIONS)
