"""The screening-feed part of ``cordon bench keyworkers``: what the key workers' hook adds to a results import
(``screening.hooks.AFTER_BATCH`` -> ``keyworkers.actions.do_take_screening_batch``). A round of the whole city in
pooled tubes of ``--kw-pool`` people (every resident, the key workers among them) is written straight into the
screening tables as a finished registrations batch would leave them, every tube negative in one results batch;
then the hook is timed on that batch (one read of the batch's tubes, one update of the workers). Compare with the
import of the same round (bench/README.md, screening: a city round's results and registrations)."""
from __future__ import annotations

import datetime as dt
import time


def add_arguments(p) -> None:
    p.add_argument("--kw-pool", type=int, default=10, help="people per pooled tube")


def _round(pool: int, today: dt.date):
    """Tubes of the whole city (``pool`` residents each) with a negative result; returns (results batch, tubes)."""
    import numpy as np

    from cordon.bench.contacts import _insert
    from cordon.core import clock
    from cordon.places.models import Resident
    from cordon.screening.models import BatchKind, BatchStatus, ImportBatch, Round, Sample, TubeResult

    now = clock.now()
    rnd = Round.objects.create(name="bench feed", on=today, pool_size=pool, created=now, created_by="bench")
    people = np.array(list(Resident.objects.order_by("id").values_list("id", flat=True)), dtype="<i8")
    when = dt.datetime.combine(today, dt.time(8), tzinfo=clock.tz())
    samples_b = ImportBatch.objects.create(kind=BatchKind.SAMPLES, key="bench-feed-samples", round=rnd,
                                           status=BatchStatus.DONE, source="bench", started=now, actor="bench")
    results_b = ImportBatch.objects.create(kind=BatchKind.RESULTS, key="bench-feed-results",
                                           status=BatchStatus.DONE, source="bench", started=now, actor="bench")
    tubes = [(f"BF{i:08d}", people[s:s + pool]) for i, s in enumerate(range(0, len(people), pool))]
    _insert(Sample, [Sample(round=rnd, batch_id=samples_b.pk, barcode=b, site="bench", sampled_at=when,
                            people=ids.tolist()) for b, ids in tubes])
    _insert(TubeResult, [TubeResult(barcode=b, result="negative", lab="bench", reported_at=when,
                                    batch_id=results_b.pk, line=i + 2) for i, (b, _ids) in enumerate(tubes)])
    return results_b, len(tubes)


def measure(args, vendor: str, city: dict, state: dict) -> tuple[list[tuple[str, str]], dict]:
    from cordon.bench.contacts import _analyze
    from cordon.core import clock
    from cordon.keyworkers.actions import do_take_screening_batch
    from cordon.keyworkers.models import KeyWorker

    today = clock.today()
    t = time.perf_counter()
    batch, tubes = _round(max(1, args.kw_pool), today)
    _analyze()
    seed_s = time.perf_counter() - t
    import numpy as np

    from cordon.keyworkers.actions import _negative_tubes
    from cordon.keyworkers.queries import latest_negatives

    # where the hook's time goes: its read and its arithmetic alone (then the whole hook, with its update)
    t = time.perf_counter()
    tubes_read = _negative_tubes(batch)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    ids = np.array(sorted(KeyWorker.objects.values_list("person_id", flat=True)), dtype=np.int64)
    latest_negatives(tubes_read, ids)
    compute_s = time.perf_counter() - t
    t = time.perf_counter()
    updated = do_take_screening_batch(batch, actor="bench")
    hook_s = time.perf_counter() - t
    current = KeyWorker.objects.filter(last_negative=today).count()
    rows = [("feed: a city round", f"{tubes:,} tubes of {args.kw_pool} (written in {seed_s:.1f} s, not counted)"),
            ("feed: the hook on its results batch (s)", f"{hook_s:.3f}: {updated:,} workers updated, "
                                                        f"{current:,} with today's negative sample"),
            ("feed: of which reading the tubes / finding the workers (s)", f"{read_s:.3f} / {compute_s:.3f}")]
    return rows, {"kw_feed_tubes": tubes, "kw_feed_hook_s": round(hook_s, 3), "kw_feed_read_s": round(read_s, 3),
                  "kw_feed_compute_s": round(compute_s, 3), "kw_feed_updated": updated}
