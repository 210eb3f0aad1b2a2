"""Synthetic Lanzhou-like city: pure (no Django), deterministic for ``(population, seed, today)``.

Usage::

    from cordon.citygen import City
    city = City(50_000, seed=1)               # builds the tree and the households (numpy, bounded memory)
    for rows in city.areas():                 # lists of tuples in AREA_FIELDS order, parents first
        ...
    for rows in city.households():            # HOUSEHOLD_FIELDS
        ...
    for chunk in city.resident_chunks():      # ResidentChunk (columns); chunk.rows() -> RESIDENT_FIELDS tuples
        ...

Ids are 1-based ordinals (areas depth-first, households and residents in tree order); ancestor ids are
self-inclusive for areas, as in ``core.models.ScopedFields``. ``City.area_id(path)`` finds a node.
Residents are produced ``HH_CHUNK`` households at a time and must be consumed in order (the ID-number
sequence counters run across chunks); memory stays at the tree + household arrays (~350 MB peak at 4.4 M).

Tree
    8 districts/counties with their real GB/T 2260 codes (620102 城关区 ... 620123 榆中县), weighted by
    approximate 2020-census resident populations (城关 1.49 M, 七里河 0.60 M, 西固 0.38 M, 安宁 0.45 M,
    红古 0.15 M, 永登 0.41 M, 皋兰 0.14 M, 榆中 0.43 M; Lanzhou New Area left out). Real street (街道) and
    town (镇/乡) names, used in a fixed order so a small city uses the central ones first; the number of
    streets grows with the population (~5 500-14 000 households per street/town at full scale). Urban
    streets (and county seats) have 社区 (~2 500 households) > 小区 (~350) > N号楼 (1-6 units) > N单元
    (mostly 4-12 households in walk-ups, 10-20 mid-rise, 20-48 high-rise); rural towns have 村 (~350
    households) > N组 (~60) > low-rise N号楼 (1-2 units of 2-8 households). At 4.4 M: ~1.68 M households,
    ~205 k units, ~330 k areas. Door numbers are floor*100 + door (101, 102, 201 ...).
    ``城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元`` (WELL_KNOWN_UNIT) exists for every population >= 100:
    each level's first child is fixed (皋兰路街道, 五泉社区, 五泉小区, 1号楼, 1单元) and each node gets >= 1
    household. Names are unique among siblings, so paths are unique.

People
    Household sizes: China 2020 census, family households by size (1: 25.4 %, 2: 29.7 %, 3: 21.0 %,
    4: 13.2 %, 5: 6.2 %, 6+: 5.6 %; mean 2.62); the last household is trimmed so the city has exactly
    ``population`` residents. Ages: China 2020 census 5-year groups (0-14 17.9 %, 60+ 18.7 %, 80+ 2.6 %),
    with the 0-4 group split by year for falling births (age 0 = 0.8 %: Lanzhou's ~8-9 per mille birth
    rate of 2021-2022). 78 % of multi-person households are headed by a couple of similar age (one man,
    one woman); one-person households and heads are adults (20+); others fill the remaining places.
    Sex: 51.2 % men under 60, 49 % at 60-79, 44 % at 80+. Names: surname frequencies from the national
    ranking with 马 raised for Lanzhou's Hui community; wives keep their surname, children take the
    household's; given names from era- and sex-typical pools (born before / from 1980).
    ID numbers (GB 11643-1999): region code of the district, birth date, a 3-digit sequence (odd for men)
    counted per (district, birth date, sex) across the whole city, so every number is unique, and the
    mod-11 check character. Mobile numbers: common 13x/15x/17x/18x/19x prefixes + 8 digits that are a
    bijection of the resident's ordinal, so they are unique; no phone under 12, 60 % at 12-17 and 80+,
    97 % otherwise.

Special groups (rates are module constants in ``city.py``; "today" defaults to 2022-11-08)
    - aged 80+ and infants (< 1 year): from the age structure (~2.6 % and ~0.8 %).
    - living alone: a one-person household aged 60+ (~2 % of residents; the 2020 census counts ~25 % of
      households as one person, and about a quarter of adults are 60+).
    - pregnant with a due date in the next 280 days: 1 % of women aged 20-40 (the brief's figure; note that
      0.8 % infants implies nearer 3-4 % of women 20-40 pregnant at any time, so raise PREGNANT_RATE if the
      care workload should match births), peaking at 25-34.
    - dialysis 0.05 % (China ~0.75 M patients on dialysis / 1.41 bn), chemotherapy 0.1 % (~4.8 M new
      cancers a year, a minority in active chemotherapy), other regular treatment 0.5 % (e.g. transfusion,
      radiotherapy, injections); mutually exclusive; risk rising with age (x0.1 under 18 ... x3 at 65+).
    - disability 3.5 % (2006 national sample survey 6.3 %; ~2.7 % hold a disability certificate), rising
      with age.
    - severe chronic illness 3 %, rising steeply with age.
    Rates are means over the whole population; the age factors are normalised under the age pyramid.
"""
from __future__ import annotations

from .city import (  # noqa: F401
    AREA_FIELDS,
    DEFAULT_TODAY,
    HH_CHUNK,
    HOUSEHOLD_FIELDS,
    KINDS,
    MIN_POPULATION,
    RESIDENT_FIELDS,
    WELL_KNOWN_UNIT,
    City,
    ResidentChunk,
    age_distribution,
)


def generate(population: int, seed: int = 1, today=None) -> City:
    """The city for ``(population, seed, today)``; see :class:`City` for its streams."""
    return City(population, seed=seed, today=today)
