"""Guardrails: the nine prohibitions (九不准) as checks that return verdicts.

A verdict names its rule (`nine-prohibitions-N`), its action (`block`: the action is refused; `flag`: it
needs a written reason, is recorded as a possible violation and shows on the daily report) and the
sentence a person reads, in Chinese and English, filled from the pack's message templates.
Every check returns a list (empty when nothing applies), most specific verdict first. Pure: no Django.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .pack import Pack

BLOCK = "block"
FLAG = "flag"


@dataclass(frozen=True)
class Verdict:
    rule: str            # "nine-prohibitions-N"
    action: str          # "block" | "flag"
    check: str           # the pack's check key, e.g. "kept_past_due"
    message_zh: str
    message_en: str
    subject: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def blocks(self) -> bool:
        return self.action == BLOCK

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def as_dict(self, lang: str = "zh") -> dict:
        return {"rule": self.rule, "action": self.action, "subject": self.subject, "message": self.message(lang)}


def verdict(pack: Pack, rule: str, check: str, subject: str | None = None, **values: Any) -> Verdict:
    """Build a verdict from the pack's message for (rule, check), filling `{placeholders}` from values."""
    c = pack.check(rule, check)
    vals = {"subject": subject, **values}
    return Verdict(rule=rule, action=c.action, check=check, message_zh=c.message.format("zh", **vals),
                   message_en=c.message.format("en", **vals), subject=subject, details=dict(values))


def blocking(verdicts: Iterable[Verdict]) -> Verdict | None:
    """The first blocking verdict, if any."""
    for v in verdicts:
        if v.blocks:
            return v
    return None


def _level_title(pack: Pack, level: str | None, lang: str) -> str:
    if level and level in pack.levels:
        return pack.levels[level].title.get(lang)
    return level or ""


# ----------------------------------------------------------------------------- areas (#1, #3, #4, #9)

def check_designation(pack: Pack, *, node_kind: str, level: str, area: str | None = None,
                      linked_infections: Iterable[Any] = (), linked_places: Iterable[Any] = ()) -> list[Verdict]:
    """Designating `area` (a node of `node_kind`) at `level`.

    #1: no linked infection and no linked exposure place -> flag.
    #4: a node larger than the pack's granularity (e.g. a street when the pack designates by compound) -> flag.
    """
    if level not in pack.designated_levels:
        raise ValueError(f"{level!r} is not a designated level of pack {pack.name} ({', '.join(pack.designated_levels)})")
    out: list[Verdict] = []
    if not list(linked_infections) and not list(linked_places):
        out.append(verdict(pack, "nine-prohibitions-1", "designation_without_link", area, area=area or "",
                           level=level))
    if pack.above_granularity(node_kind):
        out.append(verdict(pack, "nine-prohibitions-4", "designation_above_granularity", area, area=area or "",
                           kind=node_kind, granularity=pack.granularity))
    return out


def check_granularity(pack: Pack, node_kind: str, area: str | None = None) -> list[Verdict]:
    """#4 (area part) alone: flag a designation of a node larger than the pack's granularity."""
    if pack.above_granularity(node_kind):
        return [verdict(pack, "nine-prohibitions-4", "designation_above_granularity", area, area=area or "",
                        kind=node_kind, granularity=pack.granularity)]
    return []


def kept_past_due(pack: Pack, *, area: str | None, level: str, to: str, due, on, reason: str = "") -> Verdict:
    """#3: the flag for one day `on` on which `area` is still at `level` although it was due to change to
    `to` on `due` (held by a recorded keep)."""
    v = verdict(pack, "nine-prohibitions-3", "kept_past_due", area, area=area or "", level=level, to=to,
                due=due.isoformat(), on=on.isoformat(), reason=reason)
    # readable level titles in each language
    c = pack.check("nine-prohibitions-3", "kept_past_due")
    common = {"area": area or "", "due": due.isoformat(), "on": on.isoformat(), "reason": reason, "subject": area}
    return Verdict(rule=v.rule, action=v.action, check=v.check,
                   message_zh=c.message.format("zh", level=_level_title(pack, level, "zh"),
                                               to=_level_title(pack, to, "zh"), **common),
                   message_en=c.message.format("en", level=_level_title(pack, level, "en"),
                                               to=_level_title(pack, to, "en"), **common),
                   subject=area, details=v.details)


def round_missing(pack: Pack, *, area: str | None, due, day: int, on) -> Verdict:
    """#3: the flag for one day `on` on which the full-area round the pack required on `due` (day `day` of the
    area's clock) is still not recorded: the area waits, its control extended by a round nobody held."""
    return verdict(pack, "nine-prohibitions-3", "round_missing", area, area=area or "", due=due.isoformat(),
                   day=day, on=on.isoformat())


def check_place_closure(pack: Pack, *, place_kind: str, area_level: str | None, place: str | None = None) -> list[Verdict]:
    """#9: closing an essential place (pack's `essential_places`) outside high/medium areas -> flag.
    `area_level` is the level in force where the place is (None or the base level when undesignated)."""
    level = area_level or pack.base_level
    if place_kind in pack.essential_places and level not in pack.designated_levels:
        c = pack.check("nine-prohibitions-9", "essential_place_closure")
        vals = {"place": place or place_kind, "kind": place_kind}
        return [Verdict("nine-prohibitions-9", c.action, "essential_place_closure",
                        c.message.format("zh", level=_level_title(pack, level, "zh"), **vals),
                        c.message.format("en", level=_level_title(pack, level, "en"), **vals),
                        subject=place, details={"place_kind": place_kind, "level": level})]
    return []


def driver_refused(pack: Pack, *, pass_label: str, area: str, reason: str) -> Verdict:
    """#8: a checkpoint refused a driver whose pass is valid and whose 48-hour test is negative -> flag."""
    return verdict(pack, "nine-prohibitions-8", "driver_refused", pass_label, area=area, reason=reason)


# ----------------------------------------------------------------------------- persons (#2, #4, #5, #7)

def check_order(pack: Pack, category: str, *, person: str | None = None, has_link: bool = True,
                arrival_from_level: str | None = None, arrival_kind: str | None = None) -> list[Verdict]:
    """An order putting `person` under `category`'s measures.

    #4: a category the pack lacks, or a person with no recorded link (to an infection, a risk area or an
        arrival record) -> block.
    #7: a college student (`arrival_kind="student"`) arriving from a low-risk area, under a category that
        imposes quarantine -> block.
    #2: any other arrival from a low-risk area under a category that imposes quarantine -> block.
    """
    out: list[Verdict] = []
    cat = pack.category(category)
    if cat is None:
        out.append(verdict(pack, "nine-prohibitions-4", "order_category_missing", person, person=person or "",
                           category=category))
        return out
    if not has_link:
        out.append(verdict(pack, "nine-prohibitions-4", "order_without_link", person, person=person or "",
                           category=category))
    if arrival_from_level == pack.base_level and cat.restricts:
        if arrival_kind == "student":
            out.insert(0, verdict(pack, "nine-prohibitions-7", "student_low_area_quarantine", person,
                                  person=person or "", category=category))
        else:
            out.insert(0, verdict(pack, "nine-prohibitions-2", "quarantine_low_area_arrival", person,
                                  person=person or "", category=category))
    return out


POSITIVE_REASONS = ("positive_result",)


def check_extension(pack: Pack, *, days: int, reason_kind: str, person: str | None = None,
                    reason: str = "") -> list[Verdict]:
    """#5: an order may be extended only with a positive result as the reason (`reason_kind`
    "positive_result"); anything else -> block."""
    if reason_kind in POSITIVE_REASONS:
        return []
    return [verdict(pack, "nine-prohibitions-5", "extension_without_positive", person, person=person or "",
                    days=days, reason=reason or reason_kind)]


# ----------------------------------------------------------------------------- care (#6)

REFUSED_OUTCOMES = ("refused", "rejected", "declined_by_service")


def check_care_closure(pack: Pack, *, outcome: str, request: str | None = None) -> list[Verdict]:
    """#6: a medical request cannot be closed as refused -> block."""
    if outcome in REFUSED_OUTCOMES:
        return [verdict(pack, "nine-prohibitions-6", "care_refused", request, request=request or "",
                        outcome=outcome)]
    return []


def check_care_dispatch(pack: Pack, *, sealed: bool) -> list[Verdict]:
    """#6: sealed status never blocks dispatch of medical care; always an empty list (documented rule)."""
    return []
