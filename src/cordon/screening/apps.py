from django.apps import AppConfig


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
