"""Notifications: in-app (the bell, the list) and by outside channels (SMS, e-mail, WeCom).

Never lost: ``emit`` writes the notifications and their deliveries in the transaction of the action that
causes them (a rollback leaves nothing, so nothing is sent); after the commit (``transaction.on_commit``) a
small batch is sent at once, a large one by the queue (``core.tasks.send_notifications``, enqueued in the same
transaction); the worker's periodic job ``notify`` (``core.jobs.NOW_JOBS``) sends whatever is still pending,
again and again with a growing wait, until it is sent. A delivery is claimed by compare-and-set before it
is sent (status and lease), so it is sent once even when the commit hook and the worker meet; its ``log``
records every try.

The sender is pluggable: ``settings.CORDON_NOTIFY_BACKEND`` names a class with ``send(channel, user, text)``
(raises on failure). ``LogBackend`` (the default) writes a log line; ``OutboxBackend`` keeps what it sent in
memory (tests).
"""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from cordon.core import bulk, clock

log = logging.getLogger("cordon.notify")

#: What a user is notified of (the preference page's rows).
KINDS = {
    "order": _("Command orders to my unit"),
    "order_change": _("Orders revised or withdrawn"),
    "escalation": _("Escalations (orders not acknowledged or overdue)"),
    "overdue_task": _("Overdue response tasks"),
    "overdue_ticket": _("Overdue hotline tickets"),
    "care_request": _("New medical requests in my area"),
}
CHANNELS = {"sms": _("SMS"), "email": _("E-mail"), "wecom": _("WeCom")}
#: Outside channels for a user who set no preference for a kind.
DEFAULT_CHANNELS = {"order": ["sms"], "escalation": ["sms"]}
#: A batch this small is sent right after the commit; a larger one goes to the queue.
INLINE_MAX = 20
#: How long a claimed delivery is held before another sender may take it over (a sender that died).
LEASE = dt.timedelta(minutes=2)
#: The waits between tries (then the last one, again and again).
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(hours=1))


class LogBackend:
    """The default sender: one log line per message (no outside service configured)."""

    def send(self, channel: str, user, text: str) -> None:
        log.info("notify %s to %s: %s", channel, user.get_username(), text)


class OutboxBackend:
    """Keeps what it sends in ``outbox`` (tests); ``fail`` makes the next sends raise."""

    outbox: list[tuple[str, str, str]] = []
    fail = False

    def send(self, channel: str, user, text: str) -> None:
        if OutboxBackend.fail:
            raise ConnectionError("the test gateway is down")
        OutboxBackend.outbox.append((channel, user.get_username(), text))


def backend():
    return import_string(getattr(settings, "CORDON_NOTIFY_BACKEND", "cordon.core.notify.LogBackend"))()


def _both(text, params) -> tuple[str, str]:
    out = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            values = {k: str(v) for k, v in (params or {}).items()}  # lazy texts in this language too
            out.append((str(text) % values if params else str(text))[:300])
    return out[0], out[1]


def local_staff(records, cap: str, levels=("street", "community")) -> list[int]:
    """The users who hold ``cap`` on a grant at the street or community of any of ``records`` (anything with
    ancestor ids): the local staff to tell of a record in their area (city-wide holders are not told of each
    one). One query."""
    from django.db.models import Q

    from cordon.core import access
    from cordon.core.models import Grant

    areas = {getattr(r, f"{lv}_id") for r in records for lv in levels} - {None}
    if not areas:
        return []
    roles = [r for r in access.ROLE_CAPS if access.role_has(r, cap)]
    return sorted(set(Grant.objects.filter(Q(area_id__in=sorted(areas)), role__in=roles, user__is_active=True)
                      .values_list("user_id", flat=True)))


def tell_local_staff(records, cap: str, kind: str, text, params, *, url=None, object_type: str = "") -> None:
    """One notice of ``kind`` per record to its own local staff (``local_staff`` holding ``cap``): ``text``
    filled with ``params(record)``, linked to ``url(record)`` when given."""
    for r in records:
        emit(local_staff([r], cap), kind, text, params(r), url=url(r) if url else "", obj=r, object_type=object_type)


def channels_for(user_ids, kind: str) -> dict[int, list[str]]:
    """user id -> the outside channels that user wants ``kind`` by (their preference, else the default)."""
    from cordon.core.models import NotifyPreference

    ids = list(user_ids)
    default = DEFAULT_CHANNELS.get(kind, [])
    out = {u: list(default) for u in ids}
    for i in range(0, len(ids), 5000):
        for uid, chans in NotifyPreference.objects.filter(user_id__in=ids[i:i + 5000], kind=kind).values_list(
                "user_id", "channels"):
            out[uid] = [c for c in chans if c in CHANNELS]
    return out


def emit(user_ids, kind: str, text, params: dict | None = None, *, url: str = "", obj=None,
         object_type: str = "", object_id="") -> int:
    """Notify each user of ``user_ids`` (ids; duplicates once) of ``kind``: ``text`` (a lazily translated text
    with ``%(name)s`` fields from ``params``) in both languages, a link, the record. Set-based (two bulk inserts
    whatever the count). Call it inside the action's transaction. Returns how many users were notified."""
    from cordon.core.models import Delivery, Notification

    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return 0
    zh, en = _both(text, params)
    now = clock.now()
    otype = object_type or (obj._meta.model_name if obj is not None else "")
    oid = str(object_id or (obj.pk if obj is not None else ""))
    rows = bulk.insert_columns(Notification, {"user_id": ids},
                               {"kind": kind, "text_zh": zh, "text_en": en, "url": url[:300], "object_type": otype,
                                "object_id": oid, "created": now}, returning=("id", "user"))
    chans = channels_for(ids, kind)
    pairs = [(nid, c) for nid, uid in rows for c in chans.get(uid, ())]
    if pairs:
        made = bulk.insert_columns(Delivery, {"notification_id": [p[0] for p in pairs],
                                              "channel": [p[1] for p in pairs]}, {"next_try": now},
                                   returning=("id",))
        if len(made) <= INLINE_MAX:
            pks = [d[0] for d in made]
            transaction.on_commit(lambda: send_due(ids=pks))
        else:
            send_notifications.enqueue()
    return len(ids)


def _claim(d, now) -> bool:
    from cordon.core.models import Delivery

    return bool(Delivery.objects.filter(pk=d.pk, status=d.status, attempts=d.attempts).update(
        status=Delivery.SENDING, next_try=now + LEASE))


def send_due(now=None, *, ids=None, limit: int = 1000) -> dict:
    """Send the deliveries due (pending and not waiting; or claimed by a sender whose lease ran out), or those
    of ``ids``: each claimed first, sent, its try logged. Returns {"sent": n, "failed": n}."""
    from django.db.models import Q

    from cordon.core.models import Delivery

    now = now or clock.now()
    qs = Delivery.objects.filter(~Q(status=Delivery.SENT), next_try__lte=now)
    if ids is not None:
        qs = Delivery.objects.filter(pk__in=ids, status=Delivery.PENDING)
    sender = backend()
    out = {"sent": 0, "failed": 0}
    for d in qs.select_related("notification__user").order_by("next_try", "id")[:limit]:
        if not _claim(d, now):
            continue  # another sender has it
        n = d.notification
        tried = now
        try:
            sender.send(d.channel, n.user, n.text_zh)
        except Exception as exc:  # noqa: BLE001 - any gateway failure means: try again later
            wait = BACKOFF[min(d.attempts, len(BACKOFF) - 1)]
            Delivery.objects.filter(pk=d.pk).update(
                status=Delivery.PENDING, attempts=d.attempts + 1, next_try=tried + wait,
                log=[*d.log, [tried.isoformat(), False, str(exc)[:200]]])
            out["failed"] += 1
        else:
            Delivery.objects.filter(pk=d.pk).update(
                status=Delivery.SENT, attempts=d.attempts + 1, sent_at=tried,
                log=[*d.log, [tried.isoformat(), True, ""]])
            out["sent"] += 1
    return out


@task()
def send_notifications() -> dict:
    """Send the notifications a large action stored: enqueued in that action's transaction (``emit``)."""
    return send_due()


def job(now=None, *, actor="system") -> dict:
    """The worker's periodic job (``core.jobs.NOW_JOBS``): send what is still pending (``send_due``). Each
    delivery is claimed and recorded by its own statement, so no transaction is held across the sends."""
    return send_due(now)


def unread_count(user) -> int:
    from cordon.core.models import Notification

    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def text_of(n) -> str:
    """The notification's text in the reader's language."""
    return n.text_en if (translation.get_language() or "zh").startswith("en") else n.text_zh
