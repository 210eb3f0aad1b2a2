"""A mass-screening round's files for the synthetic city: pure (no Django), deterministic, streamed.

``write_round(city, folder, ...)`` walks the residents of ``city`` (optionally only those under some area
ids) in household order and writes three CSV files:

- ``samples.csv``: sample registrations ``id_number,barcode,site,sampled_at`` (a share ``coverage`` of the
  people due is sampled; the rest are the missed ones, 漏检), pooled ``pool``-in-1: consecutive sampled
  people of one compound share a tube (a tube never spans two compounds: one sampling site per compound);
- ``samples_late.csv``: the registrations of a share ``late_rate`` of the tubes, uploaded after the results;
- ``results.csv``: tube results ``barcode,result,lab,reported_at`` for every tube except a share
  ``missing_rate`` (results still outstanding); a tube is positive when one of its people is infected
  (per-person ``positive_rate``), ``invalid`` at ``invalid_rate``.

Noise, in the main samples file and the results file: exact duplicate rows (``duplicate_rate``) and
malformed rows (``malformed_rate``: bad check character, an ID number of nobody in the city, no barcode,
an impossible time, a wrong number of fields). Every figure needed to check an import is returned
(``RoundFiles``), including the sets of positive tubes and of people in them (kept small: positives only).

Memory is bounded by the city's own arrays plus one resident chunk; file size does not matter.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cordon.citygen.city import id_check_char

SAMPLE_HEADER = "id_number,barcode,site,sampled_at"
RESULT_HEADER = "barcode,result,lab,reported_at"
LABS = ("兰州市疾控中心实验室", "甘肃省人民医院检验科", "兰大一院检验中心", "金域医学兰州实验室", "华大基因兰州实验室")


@dataclass
class RoundFiles:
    samples: Path
    samples_late: Path
    results: Path
    due: int = 0                      # residents under the round's areas
    sampled: int = 0                  # distinct people registered (main + late files)
    sampled_late: int = 0
    tubes: int = 0
    tubes_late: int = 0
    tubes_with_result: int = 0
    positive_tubes: int = 0
    invalid_tubes: int = 0
    sample_rows: int = 0              # data rows written to samples.csv (incl. duplicates, malformed)
    sample_duplicates: int = 0
    sample_malformed: int = 0
    result_rows: int = 0
    result_duplicates: int = 0
    result_malformed: int = 0
    positive_barcodes: list = field(default_factory=list)
    positive_people: list = field(default_factory=list)   # id numbers in positive tubes (registered ones)
    infected: list = field(default_factory=list)          # id numbers of the infected people themselves
    sampled_by_unit: dict = field(default_factory=dict)   # unit id -> people sampled (main + late)

    @property
    def sample_good(self) -> int:
        return self.sampled - self.sampled_late


def _fmt_times(day: dt.date, minutes: np.ndarray) -> list[str]:
    base = np.datetime64(day.isoformat() + "T00:00")
    t = (base + minutes.astype("timedelta64[m]")).astype("datetime64[m]").astype(str)
    return [s.replace("T", " ") for s in t.tolist()]


def write_round(city, folder, *, pool: int = 10, coverage: float = 0.97, positive_rate: float = 0.0003,
                invalid_rate: float = 0.0005, duplicate_rate: float = 0.001, malformed_rate: float = 0.0005,
                late_rate: float = 0.01, missing_rate: float = 0.005, area_ids=(), day: dt.date | None = None,
                seed: int = 7, prefix: str = "LZ") -> RoundFiles:
    """Write the round's files into ``folder``; see the module docstring. ``area_ids`` empty = whole city."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    day = day or city.today
    out = RoundFiles(folder / "samples.csv", folder / "samples_late.csv", folder / "results.csv")
    rng = np.random.default_rng([seed, 11])
    area_ids = [int(a) for a in area_ids]
    levels = {a: int(city.area_kind[a]) for a in area_ids}
    expected = max(1, int(city.population * coverage))
    names = np.array(city.area_name, dtype=object)
    sampled_by_unit = np.zeros(city.n_areas + 1, dtype=np.int64)

    fs = open(out.samples, "w", encoding="utf-8", newline="")
    fl = open(out.samples_late, "w", encoding="utf-8", newline="")
    fr = open(out.results, "w", encoding="utf-8", newline="")
    fs.write(SAMPLE_HEADER + "\n")
    fl.write(SAMPLE_HEADER + "\n")
    fr.write(RESULT_HEADER + "\n")
    tube_no = 0
    seen_people = 0
    try:
        for ch in city.resident_chunks():
            anc = ch.anc
            if area_ids:
                due = np.zeros(len(ch), dtype=bool)
                for a, lv in levels.items():
                    due |= anc[:, lv] == a
            else:
                due = np.ones(len(ch), dtype=bool)
            n_due = int(due.sum())
            out.due += n_due
            if not n_due:
                continue
            idx = np.flatnonzero(due)
            take = rng.random(len(idx)) < coverage
            idx = idx[take]
            n = len(idx)
            if not n:
                continue
            ids = np.array(ch.id_number, dtype=object)[idx]
            comp = anc[idx, 3]
            units = anc[idx, 5]
            np.add.at(sampled_by_unit, units, 1)
            # tubes: runs of one compound, cut every ``pool`` people
            new_run = np.empty(n, dtype=bool)
            new_run[0] = True  # a tube never spans two chunks (nor two compounds)
            new_run[1:] = comp[1:] != comp[:-1]
            run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
            pos = np.arange(n) - run_start
            starts = pos % pool == 0
            tube_idx = tube_no + np.cumsum(starts) - 1
            tube_no = int(tube_idx[-1]) + 1
            barcodes = np.array([f"{prefix}{t:010d}" for t in range(int(tube_idx[0]), tube_no)], dtype=object)
            bc = barcodes[tube_idx - tube_idx[0]]
            sites = (names[comp] + "采样点").tolist()
            minutes = 420 + ((seen_people + np.arange(n)) * 1380 // expected).clip(0, 1380 + 600)
            seen_people += n
            times = _fmt_times(day, minutes)
            lines = [f"{a},{b},{c},{d}" for a, b, c, d in zip(ids.tolist(), bc.tolist(), sites, times)]

            # per tube: late registration?, result
            t0 = int(tube_idx[0])
            nt = tube_no - t0
            tube_late = rng.random(nt) < late_rate
            infected = rng.random(n) < positive_rate
            tube_pos = np.zeros(nt, dtype=bool)
            tube_pos[tube_idx[infected] - t0] = True
            tube_inv = (rng.random(nt) < invalid_rate) & ~tube_pos
            tube_missing = rng.random(nt) < missing_rate
            late_person = tube_late[tube_idx - t0]
            out.sampled += n
            out.sampled_late += int(late_person.sum())
            out.tubes += nt
            out.tubes_late += int(tube_late.sum())
            if infected.any():
                out.infected += ids[infected].tolist()
            pos_person = (tube_pos & ~tube_missing)[tube_idx - t0]
            out.positive_people += ids[pos_person].tolist()
            # samples: main and late files, with duplicates and malformed rows in the main one
            main = [ln for ln, late in zip(lines, late_person.tolist()) if not late]
            late_lines = [ln for ln, late in zip(lines, late_person.tolist()) if late]
            if late_lines:
                fl.write("\n".join(late_lines) + "\n")
            main = _noise_samples(rng, main, duplicate_rate, malformed_rate, out)
            if main:
                fs.write("\n".join(main) + "\n")
            # results, reported 6-12 h after the tube's first sample
            first_of_tube = np.flatnonzero(np.diff(np.concatenate(([-1], tube_idx))) != 0)
            rep_min = minutes[first_of_tube] + rng.integers(360, 720, nt)
            rep = _fmt_times(day, rep_min)
            res = np.where(tube_pos, "positive", np.where(tube_inv, "invalid", "negative"))
            labs = np.array(LABS, dtype=object)[rng.integers(0, len(LABS), nt)]
            keep = ~tube_missing
            out.tubes_with_result += int(keep.sum())
            out.positive_tubes += int((tube_pos & keep).sum())
            out.invalid_tubes += int((tube_inv & keep).sum())
            out.positive_barcodes += barcodes[tube_pos & keep].tolist()
            rlines = [f"{b},{r},{lab},{t}" for b, r, lab, t, k in
                      zip(barcodes.tolist(), res.tolist(), labs.tolist(), rep, keep.tolist()) if k]
            rlines = _noise_results(rng, rlines, duplicate_rate, malformed_rate, out)
            if rlines:
                fr.write("\n".join(rlines) + "\n")
    finally:
        fs.close()
        fl.close()
        fr.close()
    nz = np.flatnonzero(sampled_by_unit)
    out.sampled_by_unit = dict(zip(nz.tolist(), sampled_by_unit[nz].tolist()))
    return out


_BAD_SAMPLE = ("check", "nobody", "nobarcode", "time", "fields")


def _with_noise(rng, lines: list[str], dup_rate: float, bad_rate: float, malformed, kinds: int = 0):
    """(lines with noise, duplicates, malformed): each line, again when drawn as a duplicate, then
    ``malformed(i, line, kind)`` when drawn bad (``kind`` drawn among ``kinds`` per line when given)."""
    n = len(lines)
    dup = rng.random(n) < dup_rate
    bad = rng.random(n) < bad_rate
    kind = rng.integers(0, kinds, n) if kinds else [None] * n
    res: list[str] = []
    dups = bads = 0
    for i, ln in enumerate(lines):
        res.append(ln)
        if dup[i]:
            res.append(ln)
            dups += 1
        if bad[i]:
            res.append(malformed(i, ln, kind[i]))
            bads += 1
    return res, dups, bads


def _bad_sample(i: int, ln: str, kind) -> str:
    idn, bc, site, t = ln.split(",")
    k = _BAD_SAMPLE[kind]
    if k == "check":
        c = idn[17]
        bad_c = "0" if c != "0" else "1"
        return f"{idn[:17]}{bad_c},{bc},{site},{t}"
    if k == "nobody":  # valid form, nobody in the city: region 110101 (Beijing Dongcheng)
        body = "110101" + idn[6:17]
        return f"{body}{id_check_char(body)},{bc},{site},{t}"
    if k == "nobarcode":
        return f"{idn},,{site},{t}"
    if k == "time":
        return f"{idn},{bc},{site},{t[:5]}13-45 25:61"
    return f"{idn},{bc}"


def _bad_result(i: int, ln: str, _kind) -> str:
    bc, r, lab, t = ln.split(",")
    return f"{bc},maybe,{lab},{t}" if i % 2 else f",{r},{lab},{t}"


def _noise_samples(rng, lines: list[str], dup_rate: float, bad_rate: float, out: RoundFiles) -> list[str]:
    if not lines:
        return lines
    res, dups, bads = _with_noise(rng, lines, dup_rate, bad_rate, _bad_sample, len(_BAD_SAMPLE))
    out.sample_duplicates += dups
    out.sample_malformed += bads
    out.sample_rows += len(res)
    return res


def _noise_results(rng, lines: list[str], dup_rate: float, bad_rate: float, out: RoundFiles) -> list[str]:
    if not lines:
        return lines
    res, dups, bads = _with_noise(rng, lines, dup_rate, bad_rate, _bad_result)
    out.result_duplicates += dups
    out.result_malformed += bads
    out.result_rows += len(res)
    return res
