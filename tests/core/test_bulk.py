"""core.bulk.insert_columns: the rows it writes are the rows bulk_create would write, on either database."""
import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from cordon.core import bulk
from cordon.core.models import Delivery, Notification

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 11, 20, 8, 0, tzinfo=dt.timezone.utc)


def _users(n):
    User = get_user_model()
    return [User.objects.create(username=f"bulk{i}") for i in range(n)]


def test_rows_columns_same_values_and_defaults():
    users = _users(3)
    back = bulk.insert_columns(Notification, {"user_id": [u.pk for u in users], "url": ["/a/", "/b/", "/c/"]},
                               {"kind": "order", "text_zh": "新", "text_en": "new", "created": NOW},
                               returning=("id", "user"))
    assert [uid for _, uid in back] == [u.pk for u in users]
    rows = {n.pk: n for n in Notification.objects.filter(pk__in=[i for i, _ in back])}
    assert len(rows) == 3
    for (nid, uid), url in zip(back, ["/a/", "/b/", "/c/"]):
        n = rows[nid]
        assert (n.user_id, n.url, n.kind, n.text_zh, n.created) == (uid, url, "order", "新", NOW)
        assert n.object_type == "" and n.read_at is None  # defaults: blank text, null
    made = bulk.insert_columns(Delivery, {"notification_id": [i for i, _ in back], "channel": ["sms"] * 3},
                               {"next_try": NOW}, returning=("id",))
    d = Delivery.objects.get(pk=made[0][0])
    assert (d.status, d.attempts, d.log, d.sent_at) == (Delivery.PENDING, 0, [], None)  # model defaults, JSON too


def test_nothing_to_insert_and_bad_calls():
    assert bulk.insert_columns(Notification, {"user_id": []}, returning=("id",)) == []
    with pytest.raises(ValueError, match="different lengths"):
        bulk.insert_columns(Notification, {"user_id": [1, 2], "url": ["/a/"]})


def test_chunks(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    users = _users(5)
    back = bulk.insert_columns(Notification, {"user_id": [u.pk for u in users]},
                               {"kind": "order", "text_zh": "z", "text_en": "e", "created": NOW}, returning=("user",))
    assert [b[0] for b in back] == [u.pk for u in users]
    assert Notification.objects.filter(user__in=users).count() == 5
