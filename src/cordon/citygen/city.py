"""The synthetic city generator (see the package docstring for the model, rates and sources)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from . import data

KINDS = ("district", "street", "community", "compound", "building", "unit")
LEVELS = KINDS
DEFAULT_TODAY = dt.date(2022, 11, 8)
WELL_KNOWN_UNIT = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
MIN_POPULATION = 100

# Row layouts of the streams (ids are 1-based ordinals; 0 never occurs; None = no value).
AREA_FIELDS = ("id", "kind", "name", "parent_id", "path", "depth", "population",
               "district_id", "street_id", "community_id", "compound_id", "building_id", "unit_id")
HOUSEHOLD_FIELDS = ("id", "number", "district_id", "street_id", "community_id", "compound_id", "building_id",
                    "unit_id")
RESIDENT_FIELDS = ("id", "household_id", "name", "id_number", "phone", "birth_date", "sex", "lives_alone",
                   "pregnant_due", "treatment", "disability", "chronic_illness",
                   "district_id", "street_id", "community_id", "compound_id", "building_id", "unit_id")
TREATMENTS = ("", "dialysis", "chemotherapy", "other")

# ---- rates (documented in the package docstring) ----
COUPLE_SHARE = 0.78            # households of 2+ people headed by a couple
PREGNANT_RATE = 0.01           # of women aged 20-40 on "today"
DIALYSIS_RATE = 0.0005
CHEMOTHERAPY_RATE = 0.001
OTHER_TREATMENT_RATE = 0.005
DISABILITY_RATE = 0.035
CHRONIC_RATE = 0.03
ALONE_AGE = 60                 # "living alone" = a one-person household aged 60+

# Targets for the tree (households per node at full scale); see ``_build``.
COMMUNITY_HH = {True: 2500, False: 350}    # urban 社区 / rural 村
COMPOUND_HH = {True: 350, False: 60}       # urban 小区 / rural 组

HH_CHUNK = 40_000                            # households per resident chunk (fixed: part of the seed contract)
_NDAYS = (data.MAX_AGE + 2) * 366
_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"), dtype=object)


def id_check_char(first17: str) -> str:
    """The GB 11643 mod-11 check character of an ID number's first 17 digits."""
    return str(_ID_CHECK[sum(int(c) * int(w) for c, w in zip(first17, _ID_WEIGHTS)) % 11])
_PHONE_A = 48_271                            # coprime with 10**8: i -> (A*i + B) mod 10**8 is a bijection


def age_distribution() -> np.ndarray:
    """P(age = a) for a = 0..MAX_AGE, from the 5-year census groups (uniform inside a group)."""
    p = np.zeros(data.MAX_AGE + 1)
    p[0:5] = data.AGE_0_4
    for g, share in enumerate(data.AGE_GROUPS[1:], start=1):
        lo = 5 * g
        hi = lo + 5 if g < len(data.AGE_GROUPS) - 1 else data.MAX_AGE + 1
        if g == len(data.AGE_GROUPS) - 1:  # 90+: geometric tail
            w = 0.75 ** np.arange(hi - lo)
            p[lo:hi] = share * w / w.sum()
        else:
            p[lo:hi] = share / 5
    return p / p.sum()


def _age_factor(ages: np.ndarray, steps: tuple[float, float, float, float]) -> np.ndarray:
    """Relative risk by age band: <18, 18-44, 45-64, 65+."""
    return np.select([ages < 18, ages < 45, ages < 65], steps[:3], steps[3])


_RISK = {  # relative risk by age band (<18, 18-44, 45-64, 65+)
    "treatment": (0.1, 0.5, 1.5, 3.0),
    "disability": (0.3, 0.6, 1.0, 2.5),
    "chronic": (0.05, 0.3, 1.5, 3.0),
}
_PREG_W = {20: 0.6, 25: 1.5, 30: 1.4, 35: 0.5}  # relative by age 20-24, 25-29, 30-34, 35-40


@dataclass
class ResidentChunk:
    """A block of residents as columns (numpy arrays or lists), in ``RESIDENT_FIELDS`` terms.

    ``birth_date`` and ``pregnant_due`` are ISO ``YYYY-MM-DD`` strings (``pregnant_due`` None when absent);
    booleans are numpy bool arrays; ``anc`` is an (n, 6) int array of district..unit ids.
    """

    id: np.ndarray
    household_id: np.ndarray
    name: list
    id_number: list
    phone: list
    birth_date: list
    sex: list
    lives_alone: np.ndarray
    pregnant_due: list
    treatment: list
    disability: np.ndarray
    chronic_illness: np.ndarray
    anc: np.ndarray
    age: np.ndarray  # whole years on "today" (convenience, not a column)

    def __len__(self) -> int:
        return len(self.id)

    def rows(self) -> list[tuple]:
        """Plain tuples in ``RESIDENT_FIELDS`` order (bools as Python bools)."""
        cols = [self.id.tolist(), self.household_id.tolist(), self.name, self.id_number, self.phone,
                self.birth_date, self.sex, self.lives_alone.tolist(), self.pregnant_due, self.treatment,
                self.disability.tolist(), self.chronic_illness.tolist()]
        cols += [self.anc[:, i].tolist() for i in range(6)]
        return list(zip(*cols))


class City:
    """A deterministic synthetic Lanzhou-like city for ``(population, seed, today)``.

    The tree (areas) and the households are built on construction (numpy arrays, ~100 MB at 4.4 M);
    residents are generated on demand in chunks of ``HH_CHUNK`` households.
    """

    def __init__(self, population: int, seed: int = 1, today: dt.date | None = None):
        if population < MIN_POPULATION:
            raise ValueError(f"population must be at least {MIN_POPULATION}")
        self.population = int(population)
        self.seed = int(seed)
        self.today = today or DEFAULT_TODAY
        self._p_age = age_distribution()
        self._draw_households()
        self._build()

    # ------------------------------------------------------------------ structure
    def _draw_households(self) -> None:
        rng = np.random.default_rng([self.seed, 0])
        sizes_k = np.array(list(data.HOUSEHOLD_SIZES), dtype=np.int64)
        p = np.array(list(data.HOUSEHOLD_SIZES.values()), dtype=float)
        p /= p.sum()
        parts, total = [], 0
        while total < self.population:
            s = rng.choice(sizes_k, size=int(self.population / 2.6) + 64, p=p)
            parts.append(s)
            total += int(s.sum())
        s = np.concatenate(parts)
        cs = np.cumsum(s)
        k = int(np.searchsorted(cs, self.population))  # first index with cs >= population
        s = s[: k + 1].copy()
        s[-1] -= int(cs[k]) - self.population
        self.hh_size = s.astype(np.int8)
        self.n_households = len(s)

    def _build(self) -> None:
        pop = self.population
        weights = np.array([d[2] for d in data.DISTRICTS], dtype=float)
        cum_target = np.cumsum(weights / weights.sum()) * pop
        cs = np.cumsum(self.hh_size.astype(np.int64))
        ends = np.searchsorted(cs, cum_target[:-1]) + 1
        bounds = np.concatenate(([0], ends, [self.n_households]))
        # every district gets at least one household (population >= MIN_POPULATION guarantees room)
        for i in range(1, len(bounds)):
            bounds[i] = max(bounds[i], bounds[i - 1] + 1)
        bounds[-1] = self.n_households
        for i in range(len(bounds) - 2, 0, -1):
            bounds[i] = min(bounds[i], bounds[i + 1] - 1)

        kinds: list[int] = []
        names: list[str] = []
        parents: list[int] = []
        paths: list[str] = []
        ancs: list[tuple] = []
        unit_ids: list[int] = []
        unit_hh: list[int] = []
        unit_dpf: list[int] = []
        district_of_area: list[int] = []

        def add(kind: int, name: str, parent: int, didx: int) -> int:
            aid = len(kinds) + 1
            kinds.append(kind)
            names.append(name)
            parents.append(parent)
            if parent:
                paths.append(paths[parent - 1] + "/" + name)
                ancs.append(ancs[parent - 1][:kind] + (aid,) + (0,) * (5 - kind))
            else:
                paths.append(name)
                ancs.append((aid, 0, 0, 0, 0, 0))
            district_of_area.append(didx)
            return aid

        for didx, (dname, _region, _w, street_hh, streets) in enumerate(data.DISTRICTS):
            rng = np.random.default_rng([self.seed, 1, didx])
            h_d = int(bounds[didx + 1] - bounds[didx])
            d_id = add(0, dname, 0, didx)
            n_s = int(min(len(streets), max(1, round(h_d / street_hh)), h_d))
            urban_s = [s.endswith("街道") or (dname, s) in data.URBAN_TOWNS for s in streets[:n_s]]
            w = np.array([1.0 if u else 0.5 for u in urban_s]) * rng.gamma(6.0, 1.0, n_s)
            for sname, urban, h_s in zip(streets[:n_s], urban_s, _split(rng, h_d, w)):
                s_id = add(1, sname, d_id, didx)
                n_c = int(min(h_s, max(1, round(h_s / COMMUNITY_HH[urban]))))
                first = data.FIRST_COMMUNITIES.get((dname, sname), ())
                if urban:
                    cnames = _names(rng, n_c, data.PLACE_WORDS, lambda r: "社区", first)
                else:
                    cnames = _names(rng, n_c, data.VILLAGE_WORDS, lambda r: "村", first)
                for cname, h_c in zip(cnames, _split(rng, h_s, rng.gamma(4.0, 1.0, n_c))):
                    c_id = add(2, cname, s_id, didx)
                    n_k = int(min(h_c, max(1, round(h_c / COMPOUND_HH[urban]))))
                    first = data.FIRST_COMPOUNDS.get((dname, sname, cname), ())
                    if urban:
                        knames = _names(rng, n_k, data.PLACE_WORDS,
                                        lambda r: data.COMPOUND_SUFFIXES[r.integers(len(data.COMPOUND_SUFFIXES))],
                                        first)
                    else:
                        knames = [data.cn_number(i + 1) + "组" for i in range(n_k)]
                    for kname, h_k in zip(knames, _split(rng, h_c, rng.gamma(4.0, 1.0, n_k))):
                        k_id = add(3, kname, c_id, didx)
                        sizes = _unit_sizes(rng, h_k, urban)
                        per_b = _units_per_building(rng, len(sizes), urban)
                        u = 0
                        for b, nb in enumerate(per_b, start=1):
                            b_id = add(4, f"{b}号楼", k_id, didx)
                            for j in range(1, nb + 1):
                                unit_ids.append(add(5, f"{j}单元", b_id, didx))
                                unit_hh.append(int(sizes[u]))
                                unit_dpf.append(3 if sizes[u] > 36 else 2)
                                u += 1

        n = len(kinds)
        self.n_areas = n
        # index 0 is a dummy row so arrays can be indexed by id
        self.area_kind = np.array([0] + kinds, dtype=np.int8)
        self.area_name = [""] + names
        self.area_parent = np.array([0] + parents, dtype=np.int64)
        self.area_path = [""] + paths
        self.area_anc = np.array([(0,) * 6] + ancs, dtype=np.int64)
        self.area_depth = self.area_kind
        self.area_district = np.array([0] + district_of_area, dtype=np.int64)
        self.unit_ids = np.array(unit_ids, dtype=np.int64)
        self.n_units = len(unit_ids)
        uh = np.array(unit_hh, dtype=np.int64)
        assert uh.sum() == self.n_households
        # households, in unit order
        self.hh_unit = np.repeat(self.unit_ids, uh)
        ustart = np.concatenate(([0], np.cumsum(uh)[:-1]))
        k = np.arange(self.n_households) - np.repeat(ustart, uh)
        dpf = np.repeat(np.array(unit_dpf, dtype=np.int64), uh)
        self.hh_number = ((k // dpf + 1) * 100 + k % dpf + 1).astype(np.int32)
        self.hh_res_start = np.concatenate(([0], np.cumsum(self.hh_size.astype(np.int64))))
        # population per area
        unit_pop = np.add.reduceat(self.hh_size.astype(np.int64), ustart) if len(uh) else np.zeros(0, np.int64)
        popul = np.zeros(n + 1, dtype=np.int64)
        uanc = self.area_anc[self.unit_ids]
        for lv in range(6):
            np.add.at(popul, uanc[:, lv], unit_pop)
        popul[0] = 0
        self.area_population = popul
        self._path_index = None

    # ------------------------------------------------------------------ lookups
    def area_id(self, path: str) -> int | None:
        if self._path_index is None:
            self._path_index = {p: i for i, p in enumerate(self.area_path) if i}
        return self._path_index.get(path)

    def counts(self) -> dict:
        by_kind = np.bincount(self.area_kind[1:], minlength=6)
        return {"areas": self.n_areas, **{k: int(by_kind[i]) for i, k in enumerate(KINDS)},
                "households": self.n_households, "residents": self.population}

    # ------------------------------------------------------------------ streams
    def areas(self, chunk: int = 50_000) -> Iterator[list[tuple]]:
        """Area rows in ``AREA_FIELDS`` order, parents before children (depth-first), in chunks."""
        for lo in range(1, self.n_areas + 1, chunk):
            hi = min(self.n_areas + 1, lo + chunk)
            anc = self.area_anc[lo:hi]
            anc_cols = [[v or None for v in anc[:, i].tolist()] for i in range(6)]
            cols = [range(lo, hi), [KINDS[k] for k in self.area_kind[lo:hi].tolist()], self.area_name[lo:hi],
                    [p or None for p in self.area_parent[lo:hi].tolist()], self.area_path[lo:hi],
                    self.area_depth[lo:hi].tolist(), self.area_population[lo:hi].tolist(), *anc_cols]
            yield list(zip(*cols))

    def household_chunks(self, chunk: int = 100_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(ids, door numbers, (n, 6) ancestor ids) per chunk of households."""
        for lo in range(0, self.n_households, chunk):
            hi = min(self.n_households, lo + chunk)
            yield (np.arange(lo + 1, hi + 1, dtype=np.int64), self.hh_number[lo:hi],
                   self.area_anc[self.hh_unit[lo:hi]])

    def households(self, chunk: int = 100_000) -> Iterator[list[tuple]]:
        """Household rows in ``HOUSEHOLD_FIELDS`` order (number as text), in chunks."""
        for ids, numbers, anc in self.household_chunks(chunk):
            cols = [ids.tolist(), [str(x) for x in numbers.tolist()]] + [anc[:, i].tolist() for i in range(6)]
            yield list(zip(*cols))

    def resident_chunks(self) -> Iterator[ResidentChunk]:
        """Residents in household order, ``HH_CHUNK`` households at a time (must be consumed in order)."""
        counter = np.zeros(len(data.DISTRICTS) * _NDAYS * 2, dtype=np.int32)
        for k, lo in enumerate(range(0, self.n_households, HH_CHUNK)):
            yield self._resident_chunk(k, lo, min(self.n_households, lo + HH_CHUNK), counter)

    def residents(self) -> Iterator[list[tuple]]:
        """Resident rows in ``RESIDENT_FIELDS`` order, in chunks."""
        for ch in self.resident_chunks():
            yield ch.rows()

    # ------------------------------------------------------------------ residents
    def _resident_chunk(self, k: int, h0: int, h1: int, counter: np.ndarray) -> ResidentChunk:
        rng = np.random.default_rng([self.seed, 2, k])
        sizes = self.hh_size[h0:h1].astype(np.int64)
        h = h1 - h0
        n = int(sizes.sum())
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        house_of = np.repeat(np.arange(h), sizes)

        # ages drawn from the pyramid, then placed into households: couples of similar age head most
        # multi-person households, one-person households get an adult, everyone else fills the rest
        age_y = rng.choice(data.MAX_AGE + 1, size=n, p=self._p_age)
        age_d = np.maximum(1, ((age_y + rng.random(n)) * 365.2425).astype(np.int64))
        adult = age_y >= 20
        cpl = (sizes >= 2) & (rng.random(h) < COUPLE_SHARE)
        n_adult = int(adult.sum())
        if h > n_adult:  # tiny inputs only: the oldest people head the households
            adult[np.argsort(-age_y, kind="stable")[:h]] = True
            n_adult = h
        m = int(cpl.sum())
        excess = m + h - n_adult  # adults needed (2 per couple, 1 per other household) minus available
        if excess > 0:
            cpl[np.flatnonzero(cpl)[m - excess:]] = False
            m = int(cpl.sum())
        adult_idx = rng.permutation(np.flatnonzero(adult))
        cp = adult_idx[: 2 * m]
        cp = cp[np.argsort(age_d[cp] + rng.normal(0.0, 3 * 365.0, 2 * m))]
        pairs = cp.reshape(m, 2)[rng.permutation(m)]
        heads = adult_idx[2 * m: 2 * m + (h - m)]
        rest = rng.permutation(np.concatenate([adult_idx[2 * m + (h - m):], np.flatnonzero(~adult)]))
        cpl_h = np.flatnonzero(cpl)
        one_h = np.flatnonzero(~cpl)
        order = np.empty(n, dtype=np.int64)
        filled = np.zeros(n, dtype=bool)
        p0 = starts[cpl_h]
        order[p0] = pairs[:, 0]
        order[p0 + 1] = pairs[:, 1]
        order[starts[one_h]] = heads
        filled[p0] = filled[p0 + 1] = True
        filled[starts[one_h]] = True
        order[~filled] = rest
        age_y = age_y[order]
        age_d = age_d[order]

        # sex: couples are a man and a woman; others by age-specific sex ratio
        p_male = np.where(age_y >= 80, 0.44, np.where(age_y >= 60, 0.49, 0.512))
        male = rng.random(n) < p_male
        first_male = rng.random(m) < 0.5
        male[p0] = first_male
        male[p0 + 1] = ~first_male

        # names: the household name (the husband's in a couple), the wife keeps her own
        s_names, s_p = self._surnames()
        fam = rng.choice(len(s_names), size=h, p=s_p)
        own = rng.choice(len(s_names), size=h, p=s_p)
        sur = fam[house_of]
        wife = np.where(male[p0], p0 + 1, p0)
        sur[wife] = own[cpl_h]

        today = np.datetime64(self.today, "D")
        birth = today - age_d.astype("timedelta64[D]")
        yr = birth.astype("M8[Y]").astype(np.int64) + 1970
        mon_start = birth.astype("M8[M]")
        mo = mon_start.astype(np.int64) % 12 + 1
        da = (birth - mon_start.astype("M8[D]")).astype(np.int64) + 1
        # exact age in whole years on "today"
        t = self.today
        age = t.year - yr - ((mo > t.month) | ((mo == t.month) & (da > t.day))).astype(np.int64)

        g_pool, g_off, g_len = self._given()
        era = (yr >= 1980).astype(np.int64)
        grp = (~male).astype(np.int64) * 2 + era
        gidx = g_off[grp] + (rng.random(n) * g_len[grp]).astype(np.int64)
        name = [a + b for a, b in zip(s_names[sur].tolist(), g_pool[gidx].tolist())]

        # ID numbers: region of the district + birth date + sequence (odd for men) + check character;
        # the sequence counts per (district, birth date, sex) across the whole city, so numbers are unique
        unit = self.hh_unit[h0:h1][house_of]
        didx = self.area_district[unit]
        key = (didx * _NDAYS + age_d) * 2 + male
        srt = np.argsort(key, kind="stable")
        ks = key[srt]
        first = np.ones(n, dtype=bool)
        first[1:] = ks[1:] != ks[:-1]
        grp_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        rank = np.empty(n, dtype=np.int64)
        rank[srt] = np.arange(n) - grp_start
        seq = counter[key] + rank
        if n and int(seq.max()) >= 500:
            raise ValueError("too many people born on one day in one district for unique ID numbers")
        np.add.at(counter, key, 1)
        seq3 = ((seq + (key * 7919) % 500) % 500) * 2 + male
        region = self._regions()[didx]
        body = region * 10**11 + (yr * 10_000 + mo * 100 + da) * 1000 + seq3
        total = np.zeros(n, dtype=np.int64)
        b = body.copy()
        for pos in range(16, -1, -1):
            total += (b % 10) * _ID_WEIGHTS[pos]
            b //= 10
        id_number = [x + c for x, c in zip(body.astype(str).tolist(), _ID_CHECK[total % 11].tolist())]

        # phones: unique by construction (a bijection of the resident's ordinal onto 8 digits)
        gi = self.hh_res_start[h0] + np.arange(n, dtype=np.int64)
        suffix = (_PHONE_A * gi + 10_007 * self.seed + 12_345) % 10**8
        prefix = np.array(data.PHONE_PREFIXES, dtype=np.int64)[rng.integers(0, len(data.PHONE_PREFIXES), n)]
        p_phone = np.select([age < 12, age < 18, age < 80], [0.0, 0.6, 0.97], 0.6)
        has_phone = rng.random(n) < p_phone
        phone = np.where(has_phone, (prefix * 10**8 + suffix).astype(str), "").tolist()

        # special groups
        lives_alone = (sizes[house_of] == 1) & (age >= ALONE_AGE)
        preg_p = self._preg_prob(age)
        pregnant = (~male) & (rng.random(n) < preg_p)
        due = today + rng.integers(1, 281, n).astype("timedelta64[D]")
        pregnant_due: list = [None] * n
        if pregnant.any():
            idx = np.flatnonzero(pregnant)
            for i, s in zip(idx.tolist(), np.datetime_as_string(due[idx], unit="D").tolist()):
                pregnant_due[i] = s
        u = rng.random(n)
        ft = self._risk(age, "treatment")
        c1 = DIALYSIS_RATE * ft
        c2 = c1 + CHEMOTHERAPY_RATE * ft
        c3 = c2 + OTHER_TREATMENT_RATE * ft
        tcode = np.select([u < c1, u < c2, u < c3], [1, 2, 3], 0)
        treatment = np.array(TREATMENTS, dtype=object)[tcode].tolist()
        disability = rng.random(n) < DISABILITY_RATE * self._risk(age, "disability")
        chronic = rng.random(n) < CHRONIC_RATE * self._risk(age, "chronic")

        return ResidentChunk(
            id=gi + 1, household_id=(h0 + 1 + house_of).astype(np.int64), name=name, id_number=id_number,
            phone=phone, birth_date=np.datetime_as_string(birth, unit="D").tolist(),
            sex=np.where(male, "M", "F").tolist(), lives_alone=lives_alone, pregnant_due=pregnant_due,
            treatment=treatment, disability=disability, chronic_illness=chronic, anc=self.area_anc[unit], age=age,
        )

    # ------------------------------------------------------------------ cached tables
    def _surnames(self):
        if not hasattr(self, "_sur"):
            s = np.array([x for x, _ in data.SURNAMES], dtype=object)
            p = np.array([w for _, w in data.SURNAMES], dtype=float)
            self._sur = (s, p / p.sum())
        return self._sur

    def _given(self):
        if not hasattr(self, "_giv"):
            pool, off, ln = [], [], []
            for sex in ("M", "F"):
                for era in (0, 1):
                    names = data.GIVEN[(sex, era)].split()
                    names += [a + b for a in data.GIVEN_HEADS[(sex, era)].split()
                              for b in data.GIVEN_TAILS[(sex, era)].split() if a != b]
                    names = list(dict.fromkeys(names))
                    off.append(len(pool))
                    ln.append(len(names))
                    pool += names
            self._giv = (np.array(pool, dtype=object), np.array(off), np.array(ln, dtype=float))
        return self._giv

    def _regions(self) -> np.ndarray:
        return np.array([int(d[1]) for d in data.DISTRICTS], dtype=np.int64)

    def _risk(self, age: np.ndarray, what: str) -> np.ndarray:
        """Relative risk by age, normalised so the population mean is 1 under the age pyramid."""
        steps = _RISK[what]
        ages = np.arange(data.MAX_AGE + 1)
        mean = float((_age_factor(ages, steps) * self._p_age).sum())
        return _age_factor(age, steps) / mean

    def _preg_prob(self, age: np.ndarray) -> np.ndarray:
        ages = np.arange(data.MAX_AGE + 1)
        w = np.zeros(data.MAX_AGE + 1)
        for lo, v in _PREG_W.items():
            w[lo: lo + 5] = v
        w[40] = _PREG_W[35]
        band = (ages >= 20) & (ages <= 40)
        mean = float((w * self._p_age)[band].sum() / self._p_age[band].sum())
        return (PREGNANT_RATE * w / mean)[np.clip(age, 0, data.MAX_AGE)]


# ---------------------------------------------------------------------- helpers
def _split(rng: np.random.Generator, total: int, weights: np.ndarray) -> list[int]:
    """``total`` split into len(weights) parts, each >= 1, proportional to weights (largest remainder)."""
    n = len(weights)
    rest = total - n
    if rest < 0:
        raise ValueError("cannot split")
    w = np.asarray(weights, dtype=float)
    exact = rest * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    left = rest - int(base.sum())
    if left:
        base[np.argsort(-(exact - base), kind="stable")[:left]] += 1
    return (base + 1).tolist()


def _names(rng, n: int, pool: list[str], suffix, first=()) -> list[str]:
    """``n`` names unique among siblings: the ``first`` ones, then pool words (shuffled) plus a suffix."""
    out = list(first)[:n]
    used = set(out)
    order = rng.permutation(len(pool)).tolist()
    variants = ["", "东", "西", "南", "北", "新", "中", "上", "下"]
    rnd = 0
    while len(out) < n:
        for j in order:
            if len(out) >= n:
                break
            v = variants[rnd] if rnd < len(variants) else str(rnd)
            cand = pool[j] + v + suffix(rng)
            if cand not in used:
                used.add(cand)
                out.append(cand)
        rnd += 1
    return out


def _unit_sizes(rng, h: int, urban: bool) -> np.ndarray:
    """Households per unit summing to ``h``: urban walk-ups, mid-rise and some high-rise; rural low-rise."""
    est = h // 6 + 4
    while True:
        if urban:
            kind = rng.random(est)
            s = np.where(kind < 0.70, rng.integers(4, 13, est),
                         np.where(kind < 0.95, rng.integers(10, 21, est), rng.integers(20, 49, est)))
        else:
            s = rng.integers(2, 9, est)
        cs = np.cumsum(s)
        if cs[-1] >= h:
            break
        est *= 2
    k = int(np.searchsorted(cs, h))
    s = s[: k + 1].copy()
    s[-1] -= int(cs[k]) - h
    return s


def _units_per_building(rng, n_units: int, urban: bool) -> list[int]:
    if urban:
        draw = rng.choice(np.arange(1, 7), size=n_units, p=[0.10, 0.25, 0.30, 0.20, 0.10, 0.05])
    else:
        draw = np.where(rng.random(n_units) < 0.7, 1, 2)
    cs = np.cumsum(draw)
    k = int(np.searchsorted(cs, n_units))
    out = draw[: k + 1].copy()
    out[-1] -= int(cs[k]) - n_units
    return out.tolist()
