"""Situation pages (command centre, district), the daily close, imported curves, the bulletin desk and the
public pages (hub, bulletin archive, address lookup).

Thin: parse, authorize through ``core.access``, read through the section registry, render. Public views need
no login, carry no personal data, say ``Cache-Control: public, max-age=60`` and cost a handful of queries.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Count, Max, Min, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from cordon.core import access, clock
from cordon.places.models import Area
from cordon.situation import actions, charts, closeday, daily, hooks, public
from cordon.situation.models import Bulletin, BulletinStatus, DailyCount, DayClose
from cordon.situation.registry import SituationScope, collect
from cordon.situation.sections import rt_series
from cordon.web import pages
from cordon.web.pages import attempt, posted_text, route

MAX_DAYS = 400


def _float(v, default, lo, hi):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return x if lo <= x <= hi else default


def page_params(get) -> dict:
    """Chart options from the query string, bounded: days, mean_si, std_si."""
    return {"days": int(_float(get.get("days"), 60, 7, MAX_DAYS)),
            "mean_si": _float(get.get("mean_si"), None, 0.5, 30),
            "std_si": _float(get.get("std_si"), None, 0.1, 30)}


def parse_day(value, default=None) -> dt.date:
    """The day of a page's query string or path; absent: ``default`` or today; malformed or outside the
    pages' window (``web.forms.MIN_DAY`` .. ``MAX_DAY``): 404."""
    if not value:
        return default or clock.today()
    day = pages.parse_day(value)
    if day is None:
        raise Http404
    return day


def situation_data(view: SituationScope, on: dt.date) -> dict:
    """What the page and ``/api/situation`` show: every section's figures."""
    return {"on": on.isoformat(), "scope": "city" if view.city_wide else view.key(),
            "district": ({"id": view.district.pk, "name": view.district.name} if view.district is not None else None),
            "sections": collect(view, on)}


def charts_for(epi: dict, prefix: str = "sit") -> dict:
    days = epi["days"]
    bars = charts.stacked_bars(
        f"{prefix}-curve", days,
        [("community", _("Community"), epi["community"]), ("under_control", _("Under control"), epi["under_control"])],
        title=_("New infections per day: community vs found under control"),
        desc=_("%(n)s infections over %(d)s days, %(c)s in the community") % {
            "n": epi["window_total"], "d": len(days), "c": epi["window_community"]})
    rows = epi["rt"]["rows"]
    line = charts.line_band(
        f"{prefix}-rt", [r["date"] for r in rows], [r["mean"] for r in rows], [r["q025"] for r in rows],
        [r["q975"] for r in rows], title=_("Reproduction number Rt with its 95% interval"),
        desc=_("Cori method over 7-day windows; dashed line R = 1"), label="Rt")
    return {"curve": bars, "rt": line}


def _districts_for(user) -> list:
    scope = access.scope_for(user, access.VIEW)
    if scope.everything:
        return list(Area.objects.filter(kind="district").only("id", "name").order_by("id"))
    ids = scope.by_level.get("district") or ()
    return list(Area.objects.filter(pk__in=ids).only("id", "name").order_by("id"))


def _render_situation(request, view: SituationScope, heading: str):
    on = parse_day(request.GET.get("on"))
    data = access.drop_closed_links(situation_data(view, on), request.user)
    s = data["sections"]
    ctx = {"data": data, "s": s, "on": on, "heading": heading, "params": view.params,
           "charts": charts_for(s["epi"]) if "epi" in s else None,
           "districts": _districts_for(request.user), "district": view.district,
           "json_url": reverse("api:situation") + (f"?district={view.district.pk}" if view.district else ""),
           "epi_rows": list(zip(s["epi"]["days"], s["epi"]["community"], s["epi"]["under_control"]))
           if "epi" in s else [],
           "panels": [p for _name, fn in hooks.MAP_PANEL if (p := fn(request.user, view)) is not None]}
    return render(request, "situation/page.html", ctx)


@route("situation/", "situation")
@access.require(access.VIEW)
def situation(request):
    view = SituationScope.for_user(request.user, **page_params(request.GET))
    heading = _("Command centre: whole city") if view.scope.everything else _("Situation in your jurisdiction")
    return _render_situation(request, view, heading)


@route("situation/district/<int:pk>/", "situation_district")
@access.require(access.VIEW)
def situation_district(request, pk: int):
    district = access.access(Area.objects.filter(kind="district"), request.user, pk)
    view = SituationScope.for_user(request.user, district=district, **page_params(request.GET))
    return _render_situation(request, view, _("Situation: %(name)s") % {"name": district.name})


# ---------------------------------------------------------------------------------------------- daily close

@route("situation/daily/<str:day>/", "situation_daily")
@access.require(access.VIEW)
def daily_page(request, day: str):
    on = parse_day(day)
    view = SituationScope.for_user(request.user, days=14)
    fmt = request.GET.get("format") or "html"
    if fmt in ("json", "pdf") and not access.has_perm(request.user, access.EXPORT):
        raise access.Forbidden
    data = access.drop_closed_links(daily.report(view, on), request.user)
    if fmt == "json":
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    if fmt == "pdf":
        data = daily.absolute(data, request.build_absolute_uri("/"))
        resp = HttpResponse(daily.render_pdf(data, view), content_type="application/pdf")
        resp["Content-Disposition"] = f'inline; filename="daily-{on.isoformat()}.pdf"'
        return resp
    districts = access.drop_closed_links(closeday.board(request.user, on), request.user)
    return render(request, "situation/daily.html", {"r": data, "on": on, "prev": on - dt.timedelta(days=1),
                                                    "next": on + dt.timedelta(days=1) if on < clock.today() else None,
                                                    "districts": districts, "kinds": closeday.KIND_LABELS})


@route("situation/daily/<str:day>/close/<int:district_id>/", "situation_day_close")
@access.require(access.CLOSE_DAY)
@require_POST
def day_close(request, day: str, district_id: int):
    """Sign off a district's daily close, or reopen it with a reason."""
    on = parse_day(day)
    district = access.access(Area.objects.filter(kind="district"), request.user, district_id, perm=access.CLOSE_DAY)
    if request.POST.get("action") == "reopen":
        c = DayClose.objects.filter(district=district, day=on).first()
        if c is None:
            raise Http404
        attempt(request, lambda: actions.do_reopen_day(c, reason=posted_text(request, "reason", 300),
                                                       actor=request.user), ok=_("The daily close was reopened."))
    else:
        attempt(request, lambda: actions.do_sign_off_day(district, on, note=posted_text(request, "note", 300),
                                                         actor=request.user),
                ok=_("Signed off. Items still open carry over to the next day."))
    return redirect(reverse("situation_daily", args=[on.isoformat()]) + "#close")


@route("situation/daily/", "situation_daily_today")
@access.require(access.VIEW)
def daily_today(request):
    return redirect("situation_daily", day=clock.today().isoformat())


# ---------------------------------------------------------------------------------------------- imported curves

@route("situation/counts/", "situation_counts")
@access.require(access.VIEW)
def counts_list(request):
    series = (DailyCount.objects.order_by("series").values("series")
              .annotate(days=Count("id"), first=Min("day"), last=Max("day"), total=Sum("new_local")))
    return render(request, "situation/counts_list.html", {"series": list(series)})


@route("situation/counts/<str:name>/", "situation_counts_detail")
@access.require(access.VIEW)
def counts_detail(request, name: str):
    rows = list(DailyCount.objects.filter(series=name).order_by("day"))
    if not rows:
        raise Http404
    params = page_params(request.GET)
    mean_si = params["mean_si"] or 2.6
    std_si = params["std_si"] or 1.5
    start = rows[0].day
    n = (rows[-1].day - start).days + 1
    dates = [start + dt.timedelta(days=i) for i in range(n)]
    by_day = {r.day: r for r in rows}
    comm = [by_day[d].community if d in by_day else 0 for d in dates]
    ctrl = [by_day[d].in_control if d in by_day else 0 for d in dates]
    # days without a split: the whole count in "under control" would mislead; show it as unsplit
    unsplit = [(by_day[d].new_local if d in by_day and not by_day[d].split_known else 0) for d in dates]
    total = [by_day[d].new_local if d in by_day else 0 for d in dates]
    rt = rt_series(dates, total, mean_si, std_si)
    iso = [d.isoformat() for d in dates]
    curve = charts.stacked_bars(
        "counts-curve", iso, [("community", _("Community (screening)"), comm),
                              ("under_control", _("Under control"), ctrl), ("unsplit", _("No split given"), unsplit)],
        title=_("%(name)s: new local infections per day") % {"name": name})
    rrows = rt["rows"]
    line = charts.line_band("counts-rt", [r["date"] for r in rrows], [r["mean"] for r in rrows],
                            [r["q025"] for r in rrows], [r["q975"] for r in rrows],
                            title=_("%(name)s: Rt with its 95%% interval") % {"name": name}, label="Rt")
    peak = max(rows, key=lambda r: r.new_local)
    table = [{"day": d, "community": c, "in_control": u, "total": t} for d, c, u, t in zip(iso, comm, ctrl, total)]
    rt_by_day = {r["date"]: r for r in rrows}
    for row in table:
        row["rt"] = rt_by_day.get(row["day"])
    return render(request, "situation/counts_detail.html", {
        "name": name, "curve": curve, "rt_chart": line, "rt": rt, "peak": peak, "total": sum(total),
        "days": n, "table": table, "mean_si": mean_si, "std_si": std_si,
        "community_share": round(100 * sum(comm) / sum(total), 1) if sum(total) else None})


# ---------------------------------------------------------------------------------------------- bulletin desk

def _can_publish(user) -> bool:
    try:
        actions.check_bulletin_authority(user)
    except access.Forbidden:
        return False
    return True


@route("situation/bulletins/", "situation_bulletins")
@access.require(access.VIEW)
def bulletin_list(request):
    can = _can_publish(request.user)
    qs = Bulletin.objects.only("id", "day", "title", "status", "published_at").order_by("-day")
    if not can:
        qs = qs.filter(status=BulletinStatus.PUBLISHED)
    return render(request, "situation/bulletins.html", {"bulletins": list(qs[:120]), "can_publish": can,
                                                        "today": clock.today()})


@route("situation/bulletins/draft/", "situation_bulletin_draft")
@access.require(access.COMMAND)
@require_POST
def bulletin_draft(request):
    day = parse_day(request.POST.get("day"), clock.today() - dt.timedelta(days=1))
    b = attempt(request, lambda: actions.do_draft_bulletin(day, actor=request.user),
                ok=_("Bulletin for %(day)s drafted from the records.") % {"day": day})
    if b is None:
        return redirect("situation_bulletins")
    return redirect("situation_bulletin", day=b.day.isoformat())


@route("situation/bulletins/<str:day>/", "situation_bulletin")
@access.require(access.VIEW)
def bulletin_detail(request, day: str):
    on = parse_day(day)
    b = Bulletin.objects.filter(day=on).first()
    can = _can_publish(request.user)
    if b is None or (b.status != BulletinStatus.PUBLISHED and not can):
        raise Http404
    if request.method == "POST":
        if not can:
            raise access.Forbidden
        act = request.POST.get("action")

        def run():
            if act == "edit":
                actions.do_edit_bulletin(b, text=posted_text(request, "text", 20_000),
                                         title=posted_text(request, "title", 200, None),
                                         actor=request.user, reason=posted_text(request, "reason", 500))
                messages.success(request, _("Saved. The bulletin is a draft until approved."))
            elif act == "approve":
                actions.do_approve_bulletin(b, actor=request.user)
                messages.success(request, _("Approved."))
            elif act == "publish":
                actions.do_publish_bulletin(b, actor=request.user)
                messages.success(request, _("Published on the public pages."))
            elif act == "redraft":
                actions.do_draft_bulletin(on, actor=request.user)
                messages.success(request, _("Drafted again from the records."))
            else:
                raise Http404

        attempt(request, run)
        return redirect("situation_bulletin", day=on.isoformat())
    return render(request, "situation/bulletin.html", {"b": b, "can_publish": can,
                                                       "changed": b.text != b.drafted_text})


# ---------------------------------------------------------------------------------------------- public

PUBLIC_CACHE = {"public": True, "max_age": 60}


@route("public/", "public_hub")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_hub(request):
    latest = public.published(limit=1)
    return render(request, "situation/public_hub.html", {
        "latest": public.published_one(latest[0].day) if latest else None,
        "counts": public.area_counts(), "updated": clock.now()})


@route("public/bulletins", "public_bulletins")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_bulletins(request):
    return render(request, "situation/public_bulletins.html", {"bulletins": public.published(limit=366)})


@route("public/bulletins/<str:day>", "public_bulletin")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_bulletin(request, day: str):
    b = public.published_one(parse_day(day))
    if b is None:
        raise Http404
    around = public.published(limit=1, before=b.day)
    return render(request, "situation/public_bulletin.html", {"b": b, "previous": around[0] if around else None,
                                                              "paragraphs": [p for p in b.text.split("\n") if p.strip()]})


@route("public/lookup", "public_lookup")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_lookup(request):
    q = (request.GET.get("q") or "").strip()[:public.MAX_Q]
    data = public.lookup(q) if q else None
    return render(request, "situation/public_lookup.html", {"q": q, "data": data})


@route("public/lookup.json", "public_lookup_json")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_lookup_json(request):
    # also answered, with the same body and headers, by situation.middleware.PublicLookupMiddleware
    resp = HttpResponse(public.json_answer(request.GET.get("q")), content_type="application/json")
    resp["Access-Control-Allow-Origin"] = "*"
    return resp
