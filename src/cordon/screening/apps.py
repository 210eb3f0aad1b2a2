from django.apps import AppConfig

from cordon.places import hooks


def _build_resident_index():
    """After a bulk load of the city: build the in-memory index of residents the screening imports resolve
    ID numbers with (kept on disk for the next process)."""
    from cordon.screening.ingest import ResidentIndex  # the importer loads models: not at app-config time

    ResidentIndex.get()


def _bit(bits, n):
    """``cordon_bit(blob, n)``: bit ``n`` of a bitmap, least significant bit first in each byte (PostgreSQL's
    ``get_bit`` on bytea), 0 past its end or for NULL."""
    if bits is None or n is None or n < 0 or n // 8 >= len(bits):
        return 0
    return (bits[n // 8] >> (n % 8)) & 1


def _sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("cordon_bit", 2, _bit, deterministic=True)


class ScreeningConfig(AppConfig):
    name = "cordon.screening"
    label = "screening"
    verbose_name = "Mass screening"

    def ready(self):
        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_functions, dispatch_uid="cordon_screening_sqlite_functions")
        hooks.connect("resident_index", _build_resident_index)
        from .uploads import register

        register()  # registrations and results: kinds of file uploaded from the browser (core.uploads)
        from cordon.screening import links

        hooks.connect("screening.tests", links.resident_tests, hooks.RESIDENT_SECTIONS)
