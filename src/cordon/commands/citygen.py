"""``cordon citygen --population N [--seed S] [--replace]``: the synthetic city into the configured database.

For staging and training: the same deterministic city the demo and the benches use (``cordon.citygen``),
written by the bulk loader (``places.bulk.load_city``) into the database the settings name (the embedded
SQLite database, or PostgreSQL through ``DATABASE_URL``). Refuses a database that already has areas unless
``--replace`` is given; then the old city (areas, households, residents) is emptied and the new one written in
the same transaction, and only while no other record points at the old city (designations, cases, accounts'
grants, ...: those would be left pointing at places that no longer exist). One ``city.generate`` audit row.
"""
from __future__ import annotations

import sys

MAX_POPULATION = 30_000_000


def add_arguments(p) -> None:
    p.add_argument("--population", type=int, required=True, help="number of residents (e.g. 100000)")
    p.add_argument("--seed", type=int, default=1, help="the generator's seed (the same seed gives the same city)")
    p.add_argument("--replace", action="store_true",
                   help="replace the areas, households and residents already in the database")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def references(models) -> list[str]:
    """``app.Model.field`` of every other table's rows pointing at ``models`` (with or without a database
    constraint; the audit trail's jurisdiction ids excepted)."""
    from django.apps import apps

    from cordon.core.models import AuditEntry

    out = []
    for model in apps.get_models():
        if model in models or model is AuditEntry:
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in models and \
                    model._default_manager.filter(**{f"{f.name}__isnull": False}).exists():
                out.append(f"{model._meta.label}.{f.name}")
    return out


def run(args) -> int:
    from django.db import connection, transaction

    from cordon.citygen.city import MIN_POPULATION
    from cordon.core import audit, stamps
    from cordon.places.bulk import MODELS, CityNotEmpty, load_city
    from cordon.places.models import Area

    if not MIN_POPULATION <= args.population <= MAX_POPULATION:
        print(f"error: --population must be between {MIN_POPULATION:,} and {MAX_POPULATION:,}", file=sys.stderr)
        return 2
    if not 0 <= args.seed < 2**32:
        print("error: --seed must be between 0 and 4294967295", file=sys.stderr)
        return 2
    n_areas = Area.objects.count()
    if n_areas and not args.replace:
        print(f"error: the database already has a city ({n_areas:,} areas); "
              "pass --replace to replace it (its households and residents too)", file=sys.stderr)
        return 1
    if n_areas:
        blocking = references(MODELS)
        if blocking:
            print("error: cannot replace the city while other records point at it: " + ", ".join(blocking),
                  file=sys.stderr)
            return 1
    where = connection.settings_dict["NAME"]
    print(f"Generating a synthetic city of {args.population:,} residents (seed {args.seed}) into "
          f"{connection.vendor} {where}" + (f", replacing {n_areas:,} areas" if n_areas else "") + " ...",
          file=sys.stderr, flush=True)
    try:
        # One transaction: on SQLite this also keeps the database's own journal and sync settings (the
        # loader's faster unsafe ones are for throwaway databases), so a crash leaves the old city intact.
        with transaction.atomic():
            stats = load_city(args.population, args.seed, progress=not args.no_progress, replace=bool(n_areas))
            stamps.bump("areas")
            audit.record("city.generate", actor="cli", object_type="city", object_id=str(args.seed),
                         object_repr=f"synthetic city {args.population} / {args.seed}",
                         after={k: stats[k] for k in ("population", "seed", "today", "areas", "households",
                                                      "residents", "units")} | {"replaced_areas": n_areas},
                         reason="cordon citygen")
    except CityNotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from cordon.screening.ingest import ResidentIndex

    ResidentIndex.get()  # what the loader builds outside a transaction: ready for the next screening import
    print(f"{stats['areas']:,} areas ({stats['units']:,} building units), {stats['households']:,} households, "
          f"{stats['residents']:,} residents written in {stats['seconds']:.1f}s")
    return 0
