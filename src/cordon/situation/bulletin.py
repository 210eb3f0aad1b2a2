"""The daily bulletin (每日疫情通报) drafted from the records in the official style.

``figures(day)`` gathers the city-wide aggregates through the section registry (no personal data: counts,
district names, addresses of risk areas); ``draft_text(figures)`` writes them out as the commission's
bulletins read, e.g. "11月8日0—24时，全市新增本土确诊病例12例（其中社会面3例、管控区内9例）…".
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q

from cordon.situation.registry import SituationScope, collect
from cordon.cases.models import Infection, OrderStatus, PersonOrder
from cordon.situation.sections import category_label
from cordon.zones.models import Event, EventKind, Level

ADDRESS_CAP = 300  # addresses listed per kind; the rest as "等N个"

FOUND_ZH = (("community", "社会面"), ("controlled_area", "管控区内"), ("quarantine_site", "集中隔离点内"))


def address(path: str) -> str:
    """A public address from an area path: the parts run together as written on notices."""
    return path.replace("/", "")


def as_of(day: dt.date) -> dict:
    """Risk areas and people under orders standing at the end of ``day`` (reconstructed from the events and
    the orders' dates, so a bulletin drafted late still tells that day's numbers)."""

    level_of: dict = {}
    for did, level in (Event.objects.filter(on__lte=day, kind__in=(EventKind.DESIGNATE, EventKind.RESEAL,
                                                                   EventKind.CHANGE))
                       .order_by("on", "id").values_list("designation_id", "level")):
        level_of[did] = level
    areas = defaultdict(int)
    for level in level_of.values():
        if level and level != Level.LOW:
            areas[level] += 1
    cats = defaultdict(lambda: {"n": 0, "centralized": 0, "home": 0})
    standing = (PersonOrder.objects.filter(identified_on__lte=day).exclude(status=OrderStatus.VOID)
                .filter(Q(released_on__isnull=True) | Q(released_on__gt=day))
                .filter(Q(free_on__isnull=True) | Q(free_on__gt=day)))
    for cat, n, c, h in (standing.order_by().values_list("category")
                         .annotate(n=Count("id"), c=Count("id", filter=Q(centralized_until__gte=day)),
                                   h=Count("id", filter=(Q(centralized_until__isnull=True)
                                                         | Q(centralized_until__lt=day)) & Q(home_until__gte=day)))):
        cats[cat] = {"n": n, "centralized": c, "home": h}
    return {"areas": dict(areas), "orders": dict(cats)}


def figures(day: dt.date) -> dict:
    """The aggregates a bulletin is drafted from (city-wide; JSON-ready)."""
    data = collect(SituationScope.city(days=14), day, names=["epi", "areas"])
    epi, areas = data["epi"], data["areas"]
    standing = as_of(day)
    return {
        "day": day.isoformat(),
        "today": epi["today"],
        "by_district": [{k: v for k, v in r.items() if k != "district_id"} for r in epi["by_district"]],
        "days_since_community": epi["days_since_community"],
        "designated": [{"area": r["area"], "level": r["level"], "kind": r["kind"]} for r in areas["designated"]],
        "changes": [{"area": r["area"], "level": r["level"]} for r in areas["changes"]],
        "lifted": [{"area": r["area"]} for r in areas["lifted"]],
        "standing_areas": standing["areas"],
        "standing_orders": [{"category": k, "label": category_label(k, day), **v}
                            for k, v in sorted(standing["orders"].items(), key=lambda kv: -kv[1]["n"])],
    }


def _list(rows: list[dict]) -> str:
    names = [address(r["area"]) for r in rows[:ADDRESS_CAP]]
    text = "、".join(names)
    if len(rows) > ADDRESS_CAP:
        text += f"等{len(rows)}个区域"
    return text


LEVEL_ZH = {"high": "高风险区", "medium": "中风险区", "low": "低风险区"}


def title(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日全市新冠肺炎疫情情况通报"


def draft_text(f: dict) -> str:
    day = dt.date.fromisoformat(f["day"])
    md = f"{day.month}月{day.day}日"
    t = f["today"]
    paras = []
    kinds = f.get("kind_found") or {}

    def clause(kind: str, label: str) -> str:
        n = t.get(kind, 0)
        if not n:
            return f"无新增{label}"
        split = "、".join(f"{zh}{kinds.get(kind, {}).get(key, 0)}例" for key, zh in FOUND_ZH
                          if kinds.get(kind, {}).get(key, 0))
        return f"新增{label}{n}例" + (f"（其中{split}）" if split else "")

    if not t.get("total"):
        paras.append(f"{md}0—24时，全市无新增本土确诊病例和无症状感染者。")
    else:
        paras.append(f"{md}0—24时，全市{clause('confirmed', '本土确诊病例')}，"
                     f"{clause('asymptomatic', '本土无症状感染者')}。")
        dist = []
        for r in f["by_district"]:
            split = "、".join(f"{zh}{r.get(key, 0)}例" for key, zh in FOUND_ZH if r.get(key, 0))
            dist.append(f"{r['district']}{r['total']}例（{split}）")
        if dist:
            paras.append("新增感染者分布：" + "；".join(dist) + "。")
    since = f.get("days_since_community")
    if since is not None and since >= 1:
        paras.append(f"全市社会面已连续{since}天无新增感染者。")
    areas = []
    for level in ("high", "medium"):
        rows = [r for r in f["designated"] if r["level"] == level]
        if rows:
            areas.append(f"新增{LEVEL_ZH[level]}{len(rows)}个：{_list(rows)}")
    for level in ("high", "medium"):
        rows = [r for r in f["changes"] if r["level"] == level]
        if rows:
            areas.append(f"{len(rows)}个区域调整为{LEVEL_ZH[level]}：{_list(rows)}")
    if f["lifted"]:
        areas.append(f"解除{len(f['lifted'])}个风险区（降为低风险区）：{_list(f['lifted'])}")
    if areas:
        paras.append(f"{md}，全市" + "；".join(areas) + "。")
    else:
        paras.append(f"{md}，全市无新增和解除的风险区。")
    sa = f["standing_areas"]
    now = f"截至{md}24时，全市现有高风险区{sa.get('high', 0)}个、中风险区{sa.get('medium', 0)}个"
    people = []
    for o in f["standing_orders"]:
        if not o["n"]:
            continue
        detail = []
        if o["centralized"]:
            detail.append(f"集中隔离{o['centralized']}人")
        if o["home"]:
            detail.append(f"居家{o['home']}人")
        people.append(f"{o['label']}{o['n']}人" + (f"（{'、'.join(detail)}）" if detail else ""))
    if people:
        now += "；在管" + "、".join(people)
    paras.append(now + "。")
    paras.append("风险区域名单及解除时间以官方发布为准，市民可通过本平台“住址查询”了解所在楼栋的管控状态。"
                 "请广大市民继续做好个人防护，配合落实各项防控措施。")
    return "\n\n".join(paras)


def draft(day: dt.date) -> tuple[str, str, dict]:
    """(title, text, figures) for ``day``."""
    f = figures(day)
    f["kind_found"] = kind_found(day)
    return title(day), draft_text(f), f


def kind_found(day: dt.date) -> dict:
    """{kind: {found: n}} of the day's infections, city-wide (one grouped query)."""
    out: dict = defaultdict(dict)
    for kind, found, n in (Infection.objects.filter(confirmed_on=day).order_by().values_list("kind", "found")
                           .annotate(n=Count("id"))):
        out[kind][found] = n
    return dict(out)
