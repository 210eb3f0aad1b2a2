"""Demo step: a screening round over 五泉社区 with generated files (registrations, lab results), imported
through the real pipeline, then coverage and recall computed. The late registrations file is left out, so
the round shows tubes still waiting for their registrations and people still missing.

Then the full-area round a designated area missed (the zones demo leaves its last rounds unrecorded): held on
its day as a screening round over the area, every tube negative; the round closes itself once its results are
complete and counts for the area's clock (the other missing rounds stay flagged on the release board)."""
from __future__ import annotations

import sys
import tempfile
from cordon.citygen import City
from cordon.citygen.screening import write_round
from cordon.core import clock
from cordon.places.models import Area, Resident
from cordon.screening import actions
from cordon.screening.ingest import import_results, import_samples

COMMUNITY = "城关区/皋兰路街道/五泉社区"


def _demo_city():
    """The generator's City that the demo database was loaded from (seed 1, the demo default), or None."""

    n = Resident.objects.count()
    n_areas = Area.objects.count()
    first = Resident.objects.filter(pk=1).values_list("id_number", flat=True).first()
    for pop in range(n, max(n - 20, 99), -1):  # earlier demo steps add a few residents after the load
        last = Resident.objects.filter(pk=pop).values_list("household_id", flat=True).first()
        if last is None:
            continue
        try:
            city = City(pop, seed=1)
        except ValueError:
            return None
        if (city.n_areas == n_areas and city.n_households == last
                and first == next(city.resident_chunks()).id_number[0]):
            return city
    return None


def run() -> None:

    comm = Area.objects.filter(path=COMMUNITY).first()
    city = _demo_city()
    if comm is None or city is None:
        print("screening demo: skipped (the database was not loaded from the demo city)", file=sys.stderr)
        return
    today = clock.today()
    with tempfile.TemporaryDirectory(prefix="cordon-demo-screening-") as tmp:
        files = write_round(city, tmp, area_ids=[comm.pk], positive_rate=0.004, day=today, seed=11)
        rnd = actions.do_create_round(name="五泉社区全员核酸", on=today, areas=[comm], actor="demo",
                                      reason="demo round")
        a = import_samples(files.samples, round=rnd, actor="demo").batch
        b = import_results(files.results, actor="demo").batch
    rnd = actions.do_refresh_round(rnd, actor="demo")
    _area_round()
    print(f"Screening round over {comm.name}: {a.rows_ok} registrations ({a.rows_bad} bad rows), "
          f"{b.rows_ok} tube results, {rnd.tubes_positive} positive tubes, {rnd.people_recalled} people recalled, "
          f"{rnd.missing} missing.")


def _area_round() -> None:
    """The first missing full-area round, held as a screening round on its day and closed by its results."""
    import datetime as dt

    from cordon.core.access import within
    from cordon.screening.ingest import import_rows
    from cordon.zones.actions import do_tick
    from cordon.zones.models import Designation, Member
    from cordon.zones.queries import missing_rounds

    today = clock.today()
    missing = missing_rounds(Designation.objects.filter(status="active"), today)
    if not missing:
        return
    d, rd, n = missing[0]
    people = []
    for m in Member.objects.filter(designation=d, removed_on__isnull=True).select_related("area"):
        people += Resident.objects.filter(**within(m.area)).order_by("id").values_list("id_number", flat=True)
    with clock.frozen(dt.datetime.combine(rd, dt.time(8, 0), tzinfo=clock.tz())):
        rnd = actions.do_create_round(name=f"{d.area.name} 第{n}天全员核酸", on=rd, coverage="designated",
                                      designations=[d], actor="demo", reason="the area's day-%s round" % n)
    rows = [{"id_number": p, "barcode": f"LZD{rnd.pk:03d}{i // 10:05d}", "site": d.area.name,
             "sampled_at": f"{rd} 09:{i % 60:02d}"} for i, p in enumerate(people)]
    import_rows("samples", f"demo-area-round-{rnd.pk}", rows, round=rnd, actor="demo")
    tubes = sorted({r["barcode"] for r in rows})
    import_rows("results", f"demo-area-results-{rnd.pk}", [
        {"barcode": b, "result": "negative", "lab": "兰州市疾控中心", "reported_at": f"{rd} 21:00"} for b in tubes],
        round=None, actor="demo")
    rnd = actions.do_refresh_round(rnd, actor="demo")  # complete: it closes itself and counts for the area
    do_tick(today, actor="demo")
    print(f"Full-area round of {d.area.path} (day {n}, {rd}): {len(rows)} people in {len(tubes)} tubes, "
          f"round {rnd.status}; {len(missing) - 1} other required rounds still missing.")
