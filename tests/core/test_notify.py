"""Notifications: stored with the action, sent once after the commit, nothing on a rollback, retried by the
worker until sent, per-user preferences."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from cordon.core import clock, notify
from cordon.core.actions import ActionError, do_mark_notifications_read, do_set_notify_preferences
from cordon.core.models import Delivery, Notification

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=clock.tz())


@pytest.fixture(autouse=True)
def _outbox(settings):
    settings.CORDON_NOTIFY_BACKEND = "cordon.core.notify.OutboxBackend"
    notify.OutboxBackend.outbox = []
    notify.OutboxBackend.fail = False
    with clock.frozen(T0):
        yield


def _emit(users):
    return notify.emit([u.pk for u in users], "order", "New order %(ref)s", {"ref": "O1"}, url="/orders/1/")


@pytest.mark.django_db(transaction=True)
def test_sent_exactly_once_after_commit_and_nothing_on_rollback(city):
    from tests.conftest import _user

    worker = _user("w", "community_worker", city["community_a"])
    with transaction.atomic():
        _emit([worker])
        assert notify.OutboxBackend.outbox == []  # not before the commit
    assert notify.OutboxBackend.outbox == [("sms", "w", "New order O1")]
    assert notify.send_due(T0 + dt.timedelta(hours=1)) == {"sent": 0, "failed": 0}  # the worker sends it not again
    assert notify.OutboxBackend.outbox == [("sms", "w", "New order O1")]
    d = Delivery.objects.get()
    assert (d.status, d.attempts, len(d.log)) == ("sent", 1, 1)

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            _emit([worker])
            raise RuntimeError("the action failed")
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 1
    notify.send_due(T0 + dt.timedelta(hours=1))
    assert len(notify.OutboxBackend.outbox) == 1


def test_retried_until_sent(worker):
    notify.OutboxBackend.fail = True
    _emit([worker])
    assert notify.send_due(T0) == {"sent": 0, "failed": 1}
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.next_try) == ("pending", 1, T0 + dt.timedelta(minutes=1))
    assert notify.send_due(T0 + dt.timedelta(seconds=59)) == {"sent": 0, "failed": 0}  # waits its turn
    assert notify.send_due(T0 + dt.timedelta(minutes=1)) == {"sent": 0, "failed": 1}
    d.refresh_from_db()
    assert d.next_try == T0 + dt.timedelta(minutes=6)
    notify.OutboxBackend.fail = False
    assert notify.job(T0 + dt.timedelta(minutes=6)) == {"sent": 1, "failed": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts, [ok for _, ok, _ in d.log]) == ("sent", 3, [False, False, True])


def test_a_stuck_claim_is_taken_over(worker):
    _emit([worker])
    d = Delivery.objects.get()
    Delivery.objects.filter(pk=d.pk).update(status="sending", next_try=T0 + notify.LEASE)  # a sender died
    assert notify.send_due(T0 + dt.timedelta(minutes=1)) == {"sent": 0, "failed": 0}
    assert notify.send_due(T0 + notify.LEASE) == {"sent": 1, "failed": 0}


def test_preferences_and_read(worker, commander):
    do_set_notify_preferences(worker, {"order": ["email", "wecom"]}, actor=worker)
    _emit([worker, commander])
    assert sorted(Delivery.objects.values_list("notification__user__username", "channel")) == [
        ("commander", "sms"), ("worker_a", "email"), ("worker_a", "wecom")]
    with pytest.raises(ActionError):
        do_set_notify_preferences(worker, {"order": ["fax"]}, actor=worker)
    assert notify.unread_count(worker) == 1
    assert do_mark_notifications_read(worker, actor=worker) == 1
    assert notify.unread_count(worker) == 0 and notify.unread_count(commander) == 1


def test_the_apps_tell_local_staff(city, worker, outsider, commander):
    """A new medical request tells the care staff of its street and community (not the other community's,
    not the city-wide commander); an overdue ticket tells the hotline staff there."""
    from cordon.care.actions import do_create_request
    from cordon.hotline.actions import do_create_ticket, do_escalate_overdue

    r = do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
    n = Notification.objects.get(kind="care_request")
    assert (n.user, n.url, n.text_en) == (worker, f"/care/requests/{r.pk}/",
                                          f"New medical request {r.ref} in {city['unit_a'].path}")
    t = do_create_ticket(phone="13909310001", category="supplies", text="需要米面", area=city["unit_a"], actor="test")
    assert do_escalate_overdue(t.respond_by + dt.timedelta(minutes=1)) == 1
    assert list(Notification.objects.filter(kind="overdue_ticket").values_list("user__username", flat=True)) == [
        "worker_a"]
