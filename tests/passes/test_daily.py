"""The passes figures of the daily close."""
import datetime as dt

from cordon.passes import actions
from tests.passes._fixtures import at

D = dt.date(2022, 5, 10)


def test_daily_close_counts_the_day(city):
    from cordon.situation.registry import SituationScope, collect

    with at(D):
        p = actions.do_issue_pass(kind="delivery", areas=[city["street"]], valid_from=D, valid_to=D,
                                  holder=city["resident_a2"], actor="test")
        q = actions.do_issue_pass(kind="medical", areas=[city["unit_b"]], valid_from=D, valid_to=D,
                                  holder=city["resident_b"], actor="test")
        actions.do_check_pass(code=p.code, area=city["unit_a"], actor="test")
        actions.do_check_pass(code=q.code, area=city["unit_a"], actor="test")
        actions.do_revoke_pass(q, reason="moved", actor="test")
    s = collect(SituationScope.city(), D, detail=True)["passes"]
    assert {k: s[k] for k in ("issued", "revoked", "checks", "refusals", "flagged", "active")} == {
        "issued": 2, "revoked": 1, "checks": 2, "refusals": 1, "flagged": 0, "active": 1}
    assert s["ids"]["issued"] == [p.pk, q.pk]
    assert collect(SituationScope.city(), D + dt.timedelta(days=1))["passes"]["issued"] == 0
