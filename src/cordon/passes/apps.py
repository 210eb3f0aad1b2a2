from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "cordon.passes"
    label = "passes"
    verbose_name = "Passes and checkpoints"

    def ready(self):
        from cordon.care import hooks as care_hooks
        from cordon.passes import links
        from cordon.places import hooks
        from cordon.supplies import hooks as supplies_hooks

        hooks.connect("passes.care_transfer", links.care_transfer_pass, care_hooks.DISPATCHED)
        hooks.connect("passes.delivery_rider", links.check_rider, supplies_hooks.ASSIGN)
        hooks.connect("passes.overdue_riders", links.riders_to_replace, supplies_hooks.REASSIGN)
