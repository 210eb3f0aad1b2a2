"""The search part of ``cordon bench files``: resident search over the whole city as the page runs it
(``places.actions.do_search_residents``: the scoped query and its audit row), p50/p99 over ``--search-requests``
searches of each kind, the terms drawn from residents of the city: the last 4 and 6 digits of an ID number,
a part of a name (the given name: one or two characters; and a whole three-character name) and the last 6
digits of a phone. Searched as the commander (the whole city in scope: the largest search) and as a community
worker (their community only). The issue's goal: an ID-suffix search p99 under 100 ms at 4.4 M residents."""
from __future__ import annotations

import random
import time

KINDS = (
    ("id_suffix", "last 4 and 6 digits of an ID number", lambda r, i: r.id_number[-(4 if i % 2 else 6):]),
    ("name", "a part of a name (given name, or a whole 3-character name)",
     lambda r, i: r.name if len(r.name) >= 3 and i % 3 == 0 else r.name[1:]),
    ("phone", "last 6 digits of a phone", lambda r, i: r.phone[-6:]),
)


def add_arguments(p) -> None:
    p.add_argument("--search-requests", type=int, default=200, help="searches of each kind (p50/p99)")


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _users():
    from cordon.core.actions import do_create_user
    from cordon.places.models import Area

    commander, _ = do_create_user("bench_search_commander", "bench-pass-2022", role="commander", area=None,
                                  actor="bench")
    community = Area.objects.filter(kind="community").order_by("-population").first()
    worker, _ = do_create_user("bench_search_worker", "bench-pass-2022", role="community_worker",
                               area=community, actor="bench")
    return {"commander": commander, "worker": worker}, community


def measure(args, vendor: str, city: dict) -> tuple[list[tuple[str, str]], dict]:
    from cordon.core import access
    from cordon.places.actions import do_search_residents
    from cordon.places.models import Resident

    rng = random.Random(args.seed)
    users, community = _users()
    n = max(1, args.search_requests)
    top = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    picked = list(Resident.objects.filter(id__in=[rng.randint(1, top) for _ in range(n * 2)])
                  .exclude(phone="")[:n])
    local = list(Resident.objects.filter(**access.within(community)).order_by("?")[:n])
    rows: list[tuple[str, str]] = []
    figures: dict = {"search_requests": n, "search_residents": city.get("residents", 0)}
    hits = total = 0
    for who, sample in (("commander", picked), ("worker", local)):
        for kind, text, term in KINDS:
            times = []
            for i in range(n):
                r = sample[i % len(sample)]
                q = term(r, i)
                if not q:
                    continue
                t = time.perf_counter()
                found = do_search_residents(q, actor=users[who])
                times.append((time.perf_counter() - t) * 1000)
                total += 1
                hits += r in found.residents or found.more
            p50, p99 = _percentile(times, 0.5), _percentile(times, 0.99)
            key = f"search_{kind}_{who}"
            figures[f"{key}_p50_ms"] = round(p50, 2)
            figures[f"{key}_p99_ms"] = round(p99, 2)
            rows.append((f"search {text}, as {who}: p50 / p99 (ms)", f"{p50:.1f} / {p99:.1f}"))
    figures["search_found_share"] = round(hits / total, 3)
    rows.append(("searches that found the resident drawn (or more than a page)", f"{hits}/{total}"))
    return rows, figures
