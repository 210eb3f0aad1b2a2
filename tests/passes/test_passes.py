"""Passes: issue, revoke, the check's reasons in order through the records, the day-start suspension and
reactivation with their dates, forged tokens and replayed revoked passes, the exit checkpoint's 48 hours, #8."""
import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.passes import actions, queries, signing
from cordon.passes.models import CheckLog, PassEvent
from tests.passes._fixtures import at, overdue_hook  # noqa: F401

D = dt.date(2022, 5, 10)


def day(n):
    return D + dt.timedelta(days=n)


@pytest.fixture
def rider_pass(city):
    with at(D):
        return actions.do_issue_pass(kind="delivery", areas=[city["street"]], valid_from=day(1), valid_to=day(5),
                                     holder=city["resident_a2"], actor="test", reason="rider")


def _order(city, label, on):
    """An order for resident_a2 from ``on``: a close contact of an infection recorded that day."""
    from cordon.cases.actions import do_record_infection, do_register_contact

    with at(on):
        inf = do_record_infection(label=f"I-{label}", home=city["unit_b"], found="community", confirmed_on=on,
                                  actor="test")
        return do_register_contact(inf, label=label, last_exposure=on, identified_on=on,
                                   resident=city["resident_a2"], actor="test")


def check(p, area, when, **kw):
    with at(when):
        log, ans = actions.do_check_pass(token=signing.token_for(p), area=area, actor="test", **kw)
    return ans.result, ans.reason


def test_issue_scopes_to_the_lowest_common_area_and_audits(city, rider_pass):
    p = rider_pass
    assert (p.street_id, p.community_id, p.status, p.holder_name) == (city["street"].pk, None, "active", "李建国")
    assert p.area_paths == ["城关区/皋兰路街道"]
    assert AuditEntry.objects.filter(action="pass.issue", object_id=str(p.pk)).count() == 1
    assert list(p.events.values_list("kind", "on")) == [("issue", D)]


def test_issue_refuses_bad_input(city):
    with pytest.raises(ActionError) as e:
        actions.do_issue_pass(kind="taxi", areas=[city["street"]], valid_from=D, valid_to=D, holder=city["resident_a"])
    assert e.value.field == "kind"
    with pytest.raises(ActionError) as e:
        actions.do_issue_pass(kind="driver", areas=[city["street"]], valid_from=D, valid_to=day(-1),
                              holder=city["resident_a"])
    assert e.value.field == "valid_to"
    with pytest.raises(ActionError) as e:
        actions.do_issue_pass(kind="driver", areas=[city["street"]], valid_from=D, valid_to=D, holder_name="赵六",
                              holder_id_number="123")
    assert e.value.field == "holder_id_number"


def test_every_reason_in_order_with_exact_dates(city, rider_pass, overdue_hook):
    p, unit_a, unit_b = rider_pass, city["unit_a"], city["unit_b"]
    assert check(p, unit_a, day(0)) == ("refused", "not_yet_valid")
    assert check(p, unit_a, day(1)) == ("allowed", None)
    assert check(p, unit_a, day(5)) == ("allowed", None)
    assert check(p, unit_a, day(6)) == ("refused", "expired")
    assert check(p, city["district"], day(2)) == ("refused", "area_not_covered")
    overdue_hook[city["resident_a2"].pk] = day(3)
    assert check(p, unit_b, day(2)) == ("allowed", None)
    assert check(p, unit_b, day(3)) == ("refused", "test_overdue")
    _order(city, "P-1", day(3))
    assert check(p, unit_b, day(3)) == ("refused", "holder_under_order")
    assert check(p, city["district"], day(3)) == ("refused", "area_not_covered")
    with at(day(4)):
        actions.do_revoke_pass(p, reason="lost", actor="test")
    assert check(p, unit_b, day(4)) == ("refused", "revoked")
    assert check(p, unit_b, day(0)) == ("refused", "revoked")
    assert CheckLog.objects.count() == 11
    assert AuditEntry.objects.filter(action="pass.check").count() == 11


def test_suspended_and_active_again_by_the_day_start_job(city, rider_pass, overdue_hook):
    p = rider_pass
    overdue_hook[city["resident_a2"].pk] = day(2)
    with at(day(1)):
        assert actions.do_sync_passes(day(1))["suspended"] == 0
    with at(day(2)):
        assert actions.do_sync_passes(day(2))["suspended"] == 1
        assert actions.do_sync_passes(day(2))["suspended"] == 0  # run again: no second event
    p.refresh_from_db()
    assert (p.status, p.cause, p.status_since) == ("suspended", "overdue", day(2))
    overdue_hook.pop(city["resident_a2"].pk)  # a new negative sample: current again
    with at(day(4)):
        assert actions.do_sync_passes(day(4))["reactivated"] == 1
    p.refresh_from_db()
    assert (p.status, p.cause, p.status_since) == ("active", "", day(4))
    assert list(p.events.values_list("kind", "on", "cause")) == [
        ("issue", D, ""), ("suspend", day(2), "overdue"), ("reactivate", day(4), "")]
    assert AuditEntry.objects.filter(action__in=["pass.suspend", "pass.reactivate"]).count() == 2


def test_suspended_under_an_order_and_the_job_runs_at_day_start(city, rider_pass):
    from cordon.core import jobs

    o = _order(city, "P-2", day(2))
    assert "passes" in [n for n, _r in jobs.DAY_START_JOBS]
    with at(day(3)):
        out = jobs.day_start(day(3))
    assert out["passes"]["suspended"] == 1
    p = rider_pass
    p.refresh_from_db()
    assert (p.status, p.cause, p.status_since) == ("suspended", "order", day(3))
    assert p.events.filter(kind=PassEvent.SUSPEND, on=day(3), cause="order").count() == 1
    with at(o.free_on):  # the order has ended: active again from that day (the pass still runs then)
        p.valid_to = o.free_on
        p.save(update_fields=["valid_to"])
        jobs.day_start(o.free_on)
    p.refresh_from_db()
    assert (p.status, p.status_since) == ("active", o.free_on)


def test_forged_token_refused_and_logged(city, rider_pass):
    token = signing.token_for(rider_pass)
    body, sig = token.split(".")
    raw = bytearray(signing.unb64(body))
    raw[raw.index(b'"t":"') + 5 + 3] ^= 0x01  # one byte of the last valid day changed
    forged = signing.b64(bytes(raw)) + "." + sig
    assert signing.verify(token)["p"] == rider_pass.pk
    assert signing.verify(forged) is None
    bad_sig = body + "." + sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert signing.verify(bad_sig) is None
    with at(day(2)):
        log, ans = actions.do_check_pass(token=forged, area=city["unit_a"], actor="test")
    assert (ans.result, ans.reason, log.pass_ref_id) == ("refused", "invalid", None)


def test_revoked_pass_replayed_and_revocation_list(city, rider_pass):
    token = signing.token_for(rider_pass)
    assert queries.revocations(0) == {"version": 0, "revoked": []}
    with at(day(2)):
        actions.do_revoke_pass(rider_pass, reason="rider left the platform", actor="test")
        with pytest.raises(Conflict):
            actions.do_revoke_pass(rider_pass, reason="again", actor="test")
        log, ans = actions.do_check_pass(token=token, area=city["unit_a"], actor="test")
    assert (ans.result, ans.reason) == ("refused", "revoked")
    assert queries.revocations(0) == {"version": 1, "revoked": [rider_pass.pk]}
    assert queries.revocations(1) == {"version": 1, "revoked": []}
    with pytest.raises(ActionError):
        actions.do_revoke_pass(rider_pass, reason="", actor="test")


def test_typed_code_checks_like_the_token(city, rider_pass):
    with at(day(2)):
        _log, ans = actions.do_check_pass(code=rider_pass.code.lower(), area=city["unit_a"], actor="test")
        _log, bad = actions.do_check_pass(code="NOPE", area=city["unit_a"], actor="test")
    assert ans.allowed and (bad.result, bad.reason) == ("refused", "invalid")


def _negative(city, resident, when):
    from cordon.screening.actions import do_create_round
    from cordon.screening.ingest import import_rows

    with at(when.date(), 7):
        r = do_create_round(name="r", on=when.date(), areas=[city["unit_a"], city["unit_b"]], actor="test")
    with clock.frozen(when):
        import_rows("samples", f"s-{r.pk}", [{"id_number": resident.id_number, "barcode": "LZD0001", "site": "卡口",
                                             "sampled_at": when.strftime("%Y-%m-%d %H:%M")}], round=r, actor="test")
        import_rows("results", "r-LZD0001", [{"barcode": "LZD0001", "result": "negative",
                                              "reported_at": when.strftime("%Y-%m-%d %H:%M")}], round=None,
                    actor="test")


def test_exit_checkpoint_needs_a_negative_within_48_hours(city, rider_pass):
    cp = actions.do_create_checkpoint("出城卡口", area=city["street"], city_exit=True, actor="test")
    sampled = dt.datetime.combine(day(2), dt.time(9, 0), tzinfo=clock.tz())
    _negative(city, city["resident_a2"], sampled)
    assert queries.negative_sample_at(city["resident_a2"].pk, sampled + dt.timedelta(hours=1)) == sampled

    def leave(when):
        with clock.frozen(when):
            _log, ans = actions.do_check_pass(token=signing.token_for(rider_pass), checkpoint=cp, actor="test")
        return ans.result, ans.reason

    assert leave(sampled + dt.timedelta(hours=48)) == ("allowed", None)
    assert leave(sampled + dt.timedelta(hours=48, minutes=1)) == ("refused", "no_negative_48h")
    assert leave(sampled - dt.timedelta(hours=1)) == ("refused", "no_negative_48h")


def test_refusing_an_eligible_driver_is_flagged(city, overdue_hook):
    from cordon.zones.models import Flag

    with at(D):
        p = actions.do_issue_pass(kind="driver", areas=[city["district"]], valid_from=D, valid_to=day(9),
                                  holder=city["resident_a2"], actor="test")
        courier = actions.do_issue_pass(kind="delivery", areas=[city["district"]], valid_from=D, valid_to=day(9),
                                        holder=city["resident_a2"], actor="test")
    sampled = dt.datetime.combine(day(2), dt.time(9, 0), tzinfo=clock.tz())
    _negative(city, city["resident_a2"], sampled)
    overdue_hook[city["resident_a2"].pk] = day(2)  # the key-worker register has not seen the sample
    with clock.frozen(sampled + dt.timedelta(hours=3)):
        log, ans = actions.do_check_pass(token=signing.token_for(p), area=city["unit_a"], actor="test")
        log2, _a = actions.do_check_pass(token=signing.token_for(courier), area=city["unit_a"], actor="test")
    assert (ans.reason, log.flagged, log2.flagged) == ("test_overdue", True, False)
    f = Flag.objects.get(rule="nine-prohibitions-8")
    assert (f.on, f.check_key, f.community_id) == (day(2), "driver_refused", city["community_a"].pk)
    with clock.frozen(sampled + dt.timedelta(hours=49)):  # the test is older than 48 h: no flag
        log3, _a = actions.do_check_pass(token=signing.token_for(p), area=city["unit_a"], actor="test")
    assert log3.flagged is False and Flag.objects.filter(rule="nine-prohibitions-8").count() == 1
