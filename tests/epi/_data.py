"""Paths and loaders for the shared EpiEstim reference data."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA = Path("/work/shared/data/epiestim")
SHANGHAI = Path("/work/shared/data/shanghai-2022/daily_control_vs_screening.csv")

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="EpiEstim reference data not available")

# expected-file column -> our key
COLUMNS = {
    "Mean(R)": "mean",
    "Std(R)": "std",
    "Quantile.0.025(R)": "q025",
    "Quantile.0.05(R)": "q05",
    "Quantile.0.25(R)": "q25",
    "Median(R)": "median",
    "Quantile.0.75(R)": "q75",
    "Quantile.0.95(R)": "q95",
    "Quantile.0.975(R)": "q975",
}


def read_dicts(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def incidence(name: str) -> list[dict]:
    return read_dicts(DATA / f"{name}_incidence.csv")


def si_distr(name: str) -> list[float]:
    return [float(r["w"]) for r in read_dicts(DATA / f"{name}_si_distr.csv")]
