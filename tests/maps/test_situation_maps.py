"""The situation pages' map panel and the daily close PDF's static map (issue 19 part 5), through the hooks
situation owns."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _marks(drawing) -> dict[str, int]:
    """Risk-area marks on a drawing by fill colour (the legend's swatches are 6 wide, the marks 3.2)."""
    from reportlab.graphics.shapes import Rect

    from cordon.maps.situation import COLORS

    by_colour = {v.lower(): k for k, v in COLORS.items()}
    out: dict[str, int] = {}
    for s in drawing.contents:
        if isinstance(s, Rect) and s.width < 4 and s.fillColor is not None:
            level = by_colour[s.fillColor.hexval().replace("0x", "#").lower()]
            out[level] = out.get(level, 0) + 1
    return out


def test_report_map_draws_the_days_risk_areas_within_the_scope(mapped, commander, worker):
    from cordon.core import clock
    from cordon.maps.situation import report_map
    from cordon.situation.registry import SituationScope

    today = clock.today()
    assert _marks(report_map(SituationScope.for_user(commander), today)) == {"high": 1, "medium": 1}
    assert _marks(report_map(SituationScope.for_user(worker), today)) == {"high": 1}
    assert _marks(report_map(SituationScope.for_user(commander), today - dt.timedelta(days=1))) == {}


def test_daily_pdf_carries_the_map(mapped, commander):
    from cordon.core import clock
    from cordon.situation import daily
    from cordon.situation.registry import SituationScope

    view = SituationScope.for_user(commander, days=14)
    assert len(daily.report_maps(view, clock.today())) == 1
    with_map = daily.render(view, clock.today(), "pdf")
    assert with_map.startswith(b"%PDF")
    resp = client_for(commander).get(f"/situation/daily/{clock.today().isoformat()}/", {"format": "pdf"})
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    assert len(resp.content) > len(daily.render_pdf(daily.report(view, clock.today())))  # the map adds to it


def test_situation_pages_have_the_map_panel(mapped, commander, district_officer):
    html = client_for(commander).get("/situation/").content.decode()
    assert 'class="card map-panel"' in html and 'data-layers="risk"' in html
    html = client_for(district_officer).get(f"/situation/district/{mapped['district'].pk}/").content.decode()
    assert 'class="card map-panel"' in html and f"/maps/?at={mapped['district'].pk}" in html
