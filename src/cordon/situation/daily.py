"""The daily close (日清日结): the day's figures from every registered section, each number with a link back
to its records, rendered as JSON (ids), HTML (URLs) or PDF (ReportLab, Chinese with the built-in CID font
STSong-Light, links clickable).
"""
from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urljoin

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from cordon.cases.models import Found, InfectionKind
from cordon.zones.models import Level
from cordon.core import clock
from cordon.situation import hooks
from cordon.situation.registry import SituationScope, collect
from cordon.situation.sections import step_title
from cordon.supplies.models import DeliveryStatus


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _row(label, value, url=None, ids=None, note: str = "") -> dict:
    r = {"label": str(label), "value": value, "url": url}
    if ids is not None:
        r["ids"] = ids
    if note:
        r["note"] = note
    return r


def _figures(d: dict, link, *spec) -> list[dict]:
    """A section's counts as rows linking to ``link``: each ``(label, key)``, or ``(label, key, ids key)`` where
    the report lists the records counted."""
    ids = d.get("ids", {})
    return [_row(label, d[key], link, ids.get(rest[0]) if rest else None) for label, key, *rest in spec]


def groups(s: dict, day: dt.date) -> list[dict]:
    """The report as titled groups of rows ``{label, value, url, ids}`` (built from the section figures)."""
    out = []
    if "epi" in s:
        e = s["epi"]
        t = e["today"]
        link = e["links"].get("day") or e["links"].get("infections")
        ids = e.get("ids", {}).get("infections")
        rows = [_row(_("New infections"), t["total"], link, ids),
                _row(_("found in the community"), t["community"], link),
                _row(_("found under control"), t["under_control"], link),
                _row(_("confirmed cases"), t.get("confirmed", 0), link),
                _row(_("asymptomatic infections"), t.get("asymptomatic", 0), link),
                _row(_("Days since the last community infection"),
                     e["days_since_community"] if e["days_since_community"] is not None else "—")]
        for r in e["by_district"]:
            rows.append(_row(r["district"], r["total"], link,
                             note=_("community %(c)s, controlled area %(a)s, quarantine site %(q)s") % {
                                 "c": r.get("community", 0), "a": r.get("controlled_area", 0),
                                 "q": r.get("quarantine_site", 0)}))
        for r in e.get("records", []):
            rows.append(_row(r["label"], _label(Found, r["found"]), r["url"], [r["id"]], note=_label(InfectionKind, r["kind"])))
        latest = e["rt"].get("latest")
        if latest:
            rows.append(_row(_("Reproduction number Rt (7-day window)"), f'{latest["mean"]:.2f}',
                             note=f'95% {latest["q025"]:.2f}–{latest["q975"]:.2f}'))
        out.append({"key": "epi", "title": _("Infections"), "rows": rows})
    if "areas" in s:
        a = s["areas"]
        rows = [_row(_("Areas designated or re-sealed"), len(a["designated"]), a["links"]["areas"],
                     a.get("ids", {}).get("designated"))]
        rows += [_row(r["area"], _label(Level, r["level"]), r["url"], [r["id"]]) for r in a["designated"]]
        rows.append(_row(_("Level changes"), len(a["changes"]), a["links"]["areas"], a.get("ids", {}).get("changed")))
        rows += [_row(r["area"], _label(Level, r["level"]), r["url"], [r["id"]]) for r in a["changes"]]
        rows.append(_row(_("Areas lifted"), len(a["lifted"]), a["links"]["areas"], a.get("ids", {}).get("lifted")))
        rows += [_row(r["area"], _label(Level, r["level"]), r["url"], [r["id"]]) for r in a["lifted"]]
        rows += [_row(_("High-risk areas now"), a["active"]["high"], a["links"]["areas"]),
                 _row(_("Medium-risk areas now"), a["active"]["medium"], a["links"]["areas"]),
                 _row(_("Residents inside risk areas"), a["residents_inside"] if a["residents_inside"] is not None
                      else "—")]
        out.append({"key": "areas", "title": _("Risk areas"), "rows": rows})
    if "flags" in s:
        f = s["flags"]
        rows = [_row(_("Guardrail flags raised"), f["today"], f["links"]["areas"], f.get("ids", {}).get("flags"))]
        rows += [_row(x["rule"], x["subject"], x["url"], [x["id"]], note=x["message"]) for x in f["flags"]]
        out.append({"key": "flags", "title": _("Guardrails (nine prohibitions)"), "rows": rows})
    if "response" in s:
        r = s["response"]
        link = r["links"]["tasks"]
        rows = _figures(r, link, (_("Response tasks done"), "done_today", "done"),
                        (_("of which after their deadline"), "done_late_today"), (_("Open tasks"), "open"),
                        (_("Overdue tasks"), "overdue", "overdue"), (_("Escalated tasks"), "escalated"))
        rows += [_row(f'{step_title(x["step"])} · {x["owner"]}', x["deadline"][:16].replace("T", " "), x["url"], [x["id"]])
                 for x in r.get("overdue_records", [])]
        th = r["transfer_hours"]
        rows.append(_row(_("Median hours from report to transfer (7 days)"),
                         th["median"] if th["median"] is not None else "—"))
        out.append({"key": "response", "title": _("Response tasks"), "rows": rows})
    if "orders" in s:
        o = s["orders"]
        link = o["links"]["orders"]
        rows = _figures(o, link, (_("People identified"), "new", "identified"),
                        (_("People released"), "released", "released"), (_("People under orders now"), "active"))
        rows += [_row(c["label"], c["active"], link, note=_("centralized %(c)s, at home %(h)s") % {
            "c": c["centralized"], "h": c["home"]}) for c in o["categories"]]
        out.append({"key": "orders", "title": _("People under orders"), "rows": rows})
    if "facilities" in s:
        f = s["facilities"]
        rows = [_row(_("Beds occupied"), f["occupied"], f["links"]["facilities"]),
                _row(_("Beds free"), f["free"], f["links"]["facilities"]),
                _row(_("Fewest days of capacity left"), f["min_days_left"] if f["min_days_left"] is not None else "—")]
        rows += [_row(x["name"], f'{x["occupied"]}/{x["capacity"]}', x["url"], [x["id"]]) for x in f["facilities"][:50]]
        out.append({"key": "facilities", "title": _("Facilities"), "rows": rows})
    if "care" in s:
        c = s["care"]
        out.append({"key": "care", "title": _("Emergency care requests"), "rows": _figures(
            c, c["links"]["requests"], (_("Received"), "received", "received"), (_("Closed"), "closed"),
            (_("Refused"), "refused"), (_("Open"), "open"), (_("Past their deadline"), "overdue", "overdue"))})
    if "hotline" in s:
        h = s["hotline"]
        out.append({"key": "hotline", "title": _("Hotline tickets"), "rows": _figures(
            h, h["links"]["tickets"], (_("Created"), "created", "created"), (_("Closed"), "closed"),
            (_("Open"), "open"), (_("Awaiting a first response past its deadline"), "late_response"),
            (_("Past their resolution deadline"), "overdue", "overdue"))})
    if "supplies" in s:
        p = s["supplies"]
        link = p["links"]["supplies"]
        rows = [_row(_("Warehouses reconciled"), f'{p["reconciled"]}/{p["warehouses"]}', link,
                     p.get("ids", {}).get("reconciliations")),
                *_figures(p, link, (_("Balanced"), "balanced"), (_("Not balanced"), "unbalanced", "unbalanced"),
                          (_("Not reconciled yet"), "not_reconciled")),
                _row(_("Door deliveries due"), p["deliveries_due"], p["links"]["deliveries"])]
        rows += [_row(_label(DeliveryStatus, k), v, p["links"]["deliveries"]) for k, v in sorted(p["deliveries"].items())]
        rows.append(_row(_("Allocations short of stock"), p["allocations_short"], link))
        out.append({"key": "supplies", "title": _("Supplies reconciliation"), "rows": rows})
    if "keyworkers" in s:
        k = s["keyworkers"]
        rows = [_row(_("Key workers registered"), k["registered"], k["links"]["keyworkers"]),
                _row(_("Overdue for a test"), k["overdue"], k["links"]["overdue"], k.get("ids", {}).get("overdue")),
                _row(_("Overdue from this day"), k["new"], k["links"]["overdue"])]
        rows += [_row(e["employer"], e["overdue"], e["url"], note=_("%(n)s from this day") % {"n": e["new"]})
                 for e in k["employers"]]
        out.append({"key": "keyworkers", "title": _("Key workers overdue per employer"), "rows": rows})
    if "passes" in s:
        p = s["passes"]
        out.append({"key": "passes", "title": _("Passes and checkpoints"), "rows": [
            *_figures(p, p["links"]["passes"], (_("Passes issued"), "issued", "issued"), (_("Passes revoked"), "revoked"),
                      (_("Passes valid today"), "active")),
            *_figures(p, p["links"]["checks"], (_("Checks"), "checks"), (_("Refusals"), "refusals", "refusals"),
                      (_("Eligible drivers refused (#8 flags)"), "flagged"))]})
    if "keyplaces" in s:
        k = s["keyplaces"]
        out.append({"key": "keyplaces", "title": _("Key places"), "rows": _figures(
            k, k["links"]["places"], (_("Key places"), "places"), (_("In closed loop"), "closed_loop"),
            (_("Closed"), "closed"), (_("Breaches of the day"), "breaches", "breaches"),
            (_("Exits outside a shift change"), "breaches_exit"),
            (_("People inside past their on-site test"), "breaches_untested"))})
    if "resources" in s:
        r = s["resources"]
        out.append({"key": "resources", "title": _("Resource gaps"), "rows": _figures(
            r, r["links"]["today"], (_("Sealed buildings"), "sealed_buildings"),
            (_("Sealed buildings with no volunteer on duty"), "uncovered", "uncovered"),
            (_("Labs over capacity for the next round"), "labs_over", "labs_over"),
            (_("Labs near capacity for the next round"), "labs_near"))})
    return out


def report(view: SituationScope, day: dt.date, *, scope_label: str = "") -> dict:
    sections = collect(view, day, detail=True)
    return {"day": day.isoformat(), "generated": clock.now().isoformat(timespec="seconds"),
            "scope": scope_label or (_("Whole city") if view.city_wide else view.key()),
            "sections": sections, "groups": groups(sections, day)}


def absolute(data: dict, base_url: str) -> dict:
    """Make every row's URL absolute (for files read away from the server)."""
    for g in data["groups"]:
        for r in g["rows"]:
            if r.get("url"):
                r["url"] = urljoin(base_url, r["url"])
    return data


def render_html(data: dict, *, standalone: bool = True) -> str:
    return render_to_string("situation/daily_report.html", {"r": data, "standalone": standalone})


def as_json(data: dict) -> dict:
    """The JSON form: figures and ids (no URLs needed, but kept on rows)."""
    return data


_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    try:
        pdfmetrics.getFont(_FONT)
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def report_maps(view: SituationScope | None, day: dt.date) -> list:
    """The static maps the apps above draw for the report (``hooks.REPORT_MAP``), for the PDF."""
    if view is None:
        return []
    return [f for _name, fn in hooks.REPORT_MAP if (f := fn(view, day)) is not None]


def render_pdf(data: dict, view: SituationScope | None = None) -> bytes:
    """The report as an A4 PDF; with ``view``, the maps of ``report_maps`` after the heading."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape as x

    _register_font()
    base = ParagraphStyle("base", fontName=_FONT, fontSize=9.5, leading=13, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=base, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=8, spaceAfter=3)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555"))
    day = dt.date.fromisoformat(data["day"])
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=_("Daily close %(day)s") % {"day": data["day"]},
                            author="Cordon")
    story = [Paragraph(x(_("Daily close (日清日结)") + f" {day.year}年{day.month}月{day.day}日"), h1),
             Paragraph(x(f'{data["scope"]} | ' + _("generated %(at)s") % {"at": data["generated"][:16].replace("T", " ")}),
                       small),
             Spacer(1, 4)]
    story += report_maps(view, day)
    for g in data["groups"]:
        story.append(Paragraph(x(g["title"]), h2))
        rows = []
        for r in g["rows"]:
            value = x(str(r["value"]))
            if r.get("url"):
                value = f'<link href="{x(r["url"])}" color="#1a5fa8"><u>{value}</u></link>'
            label = x(r["label"])
            if r.get("note"):
                label += f'<br/><font size="7.5" color="#666666">{x(str(r["note"]))}</font>'
            ids = r.get("ids")
            id_text = ""
            if ids:
                id_text = x(", ".join(str(i) for i in ids[:12]) + (f" … (+{len(ids) - 12})" if len(ids) > 12 else ""))
            label = label.replace("·", "|")
            rows.append([Paragraph(label, base), Paragraph(value, base), Paragraph(id_text, small)])
        t = Table([[Paragraph(x(_("Item")), small), Paragraph(x(_("Figure")), small),
                    Paragraph(x(_("Record ids")), small)]] + rows,
                  colWidths=[88 * mm, 38 * mm, 52 * mm], repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(t)
    doc.build(story)
    return buf.getvalue()


def render(view: SituationScope, day: dt.date, fmt: str, *, base_url: str = "http://127.0.0.1:8000/",
           language: str = "zh-hans") -> bytes:
    """The daily report for ``day`` in ``fmt`` (json | html | pdf) as bytes."""
    import json

    with translation.override(language):
        data = report(view, day)
        if fmt == "json":
            return json.dumps(as_json(data), ensure_ascii=False, indent=1).encode()
        data = absolute(data, base_url)
        if fmt == "html":
            return render_html(data).encode()
        if fmt == "pdf":
            return render_pdf(data, view)
    raise ValueError(f"unknown format {fmt!r} (json, html, pdf)")
