"""Server-rendered SVG charts (no script, no external asset): stacked daily bars and a line with its band.

Each chart is a responsive ``<svg viewBox=...>`` with ``role="img"``, a ``<title>`` and ``<desc>`` for
screen readers, and a ``<title>`` on every bar / point for hover; the pages add a data table as fallback.
Colours are presentation attributes (allowed under the CSP, and kept when the SVG is saved or printed).
"""
from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe

W, H = 720, 240
PAD_L, PAD_R, PAD_T, PAD_B = 44, 12, 14, 34
COLORS = {"community": "#c0392b", "under_control": "#2e6da4", "band": "#f0b27a", "line": "#a04000",
          "ref": "#555555", "axis": "#888888", "grid": "#e3e3e3", "text": "#333333"}


def nice_max(v: float) -> float:
    if v <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def _axes(out: list, ymax: float, labels: list[str], x_of, ticks: int = 4, fmt=_fmt) -> None:
    plot_h = H - PAD_T - PAD_B
    for i in range(ticks + 1):
        v = ymax * i / ticks
        y = PAD_T + plot_h - plot_h * i / ticks
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="{COLORS["grid"]}" '
                   f'stroke-width="1"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="{COLORS["text"]}">{escape(fmt(v))}</text>')
    n = len(labels)
    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        x = x_of(i)
        out.append(f'<text x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle" font-size="11" '
                   f'fill="{COLORS["text"]}">{escape(labels[i][5:] if len(labels[i]) == 10 else labels[i])}</text>')
    out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{H - PAD_B}" y2="{H - PAD_B}" stroke="{COLORS["axis"]}"/>')


def _open(out: list, chart_id: str, title: str, desc: str, cls: str) -> None:
    out.append(f'<svg class="chart {cls}" id="{escape(chart_id)}" viewBox="0 0 {W} {H}" width="100%" '
               f'preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="{escape(chart_id)}-t '
               f'{escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">')
    out.append(f'<title id="{escape(chart_id)}-t">{escape(title)}</title>')
    out.append(f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>')


def stacked_bars(chart_id: str, days: list[str], series: list[tuple[str, str, list[int]]], *, title: str,
                 desc: str = "") -> str:
    """Daily stacked bars. ``series``: [(key, label, values)], bottom first (keys pick the colours)."""
    n = len(days)
    totals = [sum(s[2][i] for s in series) for i in range(n)]
    ymax = nice_max(max(totals, default=0))
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    bw = plot_w / max(n, 1)
    x_of = lambda i: PAD_L + bw * (i + 0.5)  # noqa: E731
    out: list[str] = []
    _open(out, chart_id, title, desc or title, "chart-bars")
    _axes(out, ymax, days, x_of)
    for i in range(n):
        y0 = PAD_T + plot_h
        parts = []
        for key, label, values in series:
            v = values[i]
            if not v:
                parts.append(f"{label} 0")
                continue
            h = plot_h * v / ymax
            y0 -= h
            out.append(f'<rect class="bar bar-{escape(key)}" x="{PAD_L + bw * i + bw * 0.1:.1f}" y="{y0:.1f}" '
                       f'width="{max(bw * 0.8, 0.5):.1f}" height="{h:.1f}" fill="{COLORS.get(key, "#777")}">'
                       f'<title>{escape(days[i])} {escape(label)}: {v}</title></rect>')
            parts.append(f"{label} {v}")
    # legend
    lx = PAD_L
    for key, label, _values in series:
        out.append(f'<rect x="{lx}" y="2" width="10" height="10" fill="{COLORS.get(key, "#777")}"/>')
        out.append(f'<text x="{lx + 14}" y="11" font-size="11" fill="{COLORS["text"]}">{escape(label)}</text>')
        lx += 20 + 12 * len(label) + 10
    out.append("</svg>")
    return mark_safe("".join(out))


def line_band(chart_id: str, days: list[str], mean: list[float], lo: list[float], hi: list[float], *, title: str,
              desc: str = "", ref: float | None = 1.0, cap: float = 6.0, label: str = "") -> str:
    """A line (``mean``) with its interval band (``lo``..``hi``) and a reference line (R = 1)."""
    n = len(days)
    top = max([*(h for h in hi if h is not None), ref or 0, 0.1])
    ymax = nice_max(min(top, cap))
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    step = plot_w / max(n - 1, 1)
    x_of = lambda i: PAD_L + step * i if n > 1 else PAD_L + plot_w / 2  # noqa: E731
    y_of = lambda v: PAD_T + plot_h - plot_h * min(v, ymax) / ymax  # noqa: E731
    out: list[str] = []
    _open(out, chart_id, title, desc or title, "chart-line")
    _axes(out, ymax, days, x_of, fmt=lambda v: f"{v:.1f}")
    if n:
        upper = " ".join(f"{x_of(i):.1f},{y_of(hi[i]):.1f}" for i in range(n))
        lower = " ".join(f"{x_of(i):.1f},{y_of(lo[i]):.1f}" for i in reversed(range(n)))
        out.append(f'<polygon class="band" points="{upper} {lower}" fill="{COLORS["band"]}" fill-opacity="0.55"/>')
        if ref is not None and ref <= ymax:
            out.append(f'<line class="ref" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y_of(ref):.1f}" y2="{y_of(ref):.1f}" '
                       f'stroke="{COLORS["ref"]}" stroke-dasharray="4 3"/>')
        pts = " ".join(f"{x_of(i):.1f},{y_of(mean[i]):.1f}" for i in range(n))
        out.append(f'<polyline class="mean" points="{pts}" fill="none" stroke="{COLORS["line"]}" stroke-width="2"/>')
        for i in range(n):
            out.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(mean[i]):.1f}" r="2.2" fill="{COLORS["line"]}">'
                       f'<title>{escape(days[i])}: {escape(label)} {mean[i]:.2f} '
                       f'({lo[i]:.2f}–{hi[i]:.2f})</title></circle>')
    out.append("</svg>")
    return mark_safe("".join(out))
