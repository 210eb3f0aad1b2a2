from django.apps import AppConfig


class KeyWorkersConfig(AppConfig):
    name = "cordon.keyworkers"
    label = "keyworkers"
    verbose_name = "Key workers"

    def ready(self):
        from cordon.keyworkers import links, uploads as kw_uploads
        from cordon.passes import hooks as passes_hooks
        from cordon.places import hooks
        from cordon.screening import hooks as screening_hooks

        hooks.connect("keyworkers.overdue", links.overdue_among, passes_hooks.OVERDUE)
        hooks.connect("keyworkers.overdue", links.overdue_exists, passes_hooks.OVERDUE_EXISTS)
        hooks.connect("keyworkers.screening", links.after_screening_batch, screening_hooks.AFTER_BATCH)
        hooks.connect("keyworkers.retest", links.after_retest, screening_hooks.AFTER_RETEST)
        kw_uploads.register()
