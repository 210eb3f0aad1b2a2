"""Actions on accounts, grants, API tokens and the deployment's policy pack. Each is atomic and writes its
audit row."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cordon.core import access, audit, packs
from cordon.core.errors import ActionError, Conflict  # noqa: F401 (raised by every app's actions)
from cordon.core.models import ApiToken, AuditEntry, Grant, PackSetting, Role
from cordon.policy.pack import PackInvalid


def lock(obj):
    """Lock ``obj``'s row until the transaction ends and reload it, so that the checks that follow see the
    committed state, not the copy the caller read before (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite's
    writers are already serialised by ``BEGIN IMMEDIATE``, and the reload is what matters there).
    Must run inside ``transaction.atomic``. Raises Conflict when the record is gone."""
    model = type(obj)
    if not model._base_manager.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True):
        raise Conflict(_("this %(kind)s no longer exists") % {"kind": model._meta.verbose_name},
                       field=model._meta.model_name)
    obj.refresh_from_db()
    return obj


@transaction.atomic
def do_escalate(records, now, level_of, *, actor, object_type: str, rule) -> list:
    """The overdue escalation both response tasks and hotline tickets run (records with ``escalation`` and
    ``escalated_at``): each of ``records`` whose ``level_of(record)`` is above its escalation rises to it at
    ``now``, with an ``<object_type>.escalate`` audit row citing ``rule(record)`` (bulk-inserted). Answers the
    records raised, for the caller's timeline entries and notices. Run it inside the caller's transaction."""
    raised, rows = [], []
    for r in records:
        level = level_of(r)
        if level > r.escalation:
            before = r.escalation
            r.escalation, r.escalated_at = level, now
            r.save(update_fields=["escalation", "escalated_at"])
            rows.append(audit.entry(f"{object_type}.escalate", actor=actor, obj=r, object_type=object_type,
                                    before={"escalation": before}, after={"escalation": level}, rule=rule(r)))
            raised.append(r)
    AuditEntry.objects.bulk_create(rows)
    return raised


def serialize(*key) -> None:
    """Hold a transaction-scoped lock on ``key`` (any values; e.g. ("hotline.caller", phone, category)) until
    the transaction ends: concurrent transactions asking for the same key run one after the other. Used where
    the thing to lock is a row that does not exist yet. PostgreSQL: an advisory lock; SQLite: writers are
    serialised already (``BEGIN IMMEDIATE``). Must run inside ``transaction.atomic``."""
    serialize_all([key])


def _lock_key(key) -> int:
    import hashlib

    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def serialize_all(keys) -> None:
    """``serialize`` each of ``keys`` (tuples), in one statement, in the order of their lock numbers (two
    transactions asking for overlapping sets never wait for each other in a cycle)."""
    from django.db import connection

    if connection.vendor != "postgresql" or not keys:
        return
    numbers = sorted({_lock_key(k) for k in keys})
    with connection.cursor() as cur:
        if len(numbers) == 1:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", numbers)
        else:
            cur.execute("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY k) s",
                        [numbers])


def _check_role(role: str) -> None:
    """A role is a row of the one role x capability table (``core.access.ROLE_CAPS``)."""
    if role not in access.ROLE_CAPS or role not in Role.values:
        raise ActionError(_("unknown role %(role)s; roles: %(values)s")
                          % {"role": repr(role), "values": ', '.join(access.ROLE_CAPS)}, field="role")


@transaction.atomic
def do_create_user(username: str, password: str, *, role: str, area=None, actor=None, reason: str = "",
                   check_password: bool = True):
    """Create an account holding ``role`` over ``area`` (None = the whole city)."""
    User = get_user_model()
    _check_role(role)
    if not username or len(username) > 150:
        raise ActionError(_("a user name of 1 to 150 characters is required"), field="username")
    if User.objects.filter(username=username).exists():
        raise ActionError(_("user %(username)s already exists") % {"username": repr(username)}, field="username")
    if role == Role.COMMANDER and area is not None and area.kind != "district":
        pass  # a commander over a part of the city is allowed; the whole city is area=None
    user = User(username=username)
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ActionError("; ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save()
    grant = Grant.objects.create(user=user, role=role, area=area)
    audit.record("user.create", actor=actor, obj=user, object_type="user",
                 after={"username": username, "role": role, "area": area.path if area else "*"},
                 reason=reason, scope=area)
    return user, grant


@transaction.atomic
def do_create_token(user, name: str, *, actor=None) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its hash is stored."""
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(user=user, name=name[:80] or "token", digest=ApiToken.hash(secret),
                                    prefix=secret[:8])
    audit.record("token.create", actor=actor or user, obj=token, object_type="token",
                 after={"user": user.username, "name": token.name, "prefix": token.prefix})
    return token, secret


@transaction.atomic
def do_revoke_token(token, *, actor=None, reason: str = ""):
    token.revoked = True
    token.save(update_fields=["revoked"])
    audit.record("token.revoke", actor=actor, obj=token, object_type="token", before={"revoked": False},
                 after={"revoked": True}, reason=reason)


@transaction.atomic
def do_set_pack(name: str, *, effective_from: dt.date, actor=None, reason: str = "") -> PackSetting:
    """Select the policy pack that applies from ``effective_from`` (audited). New designations use it."""
    try:
        pack = packs.load(name)
    except (PackInvalid, FileNotFoundError, ValueError) as exc:
        raise ActionError(_("policy pack %(name)s cannot be used: %(exc)s")
                          % {"name": repr(name), "exc": exc}, field="pack") from None
    before = packs.active_pack_name(effective_from)
    s = PackSetting.objects.create(pack=pack.name if "/" not in name else name, effective_from=effective_from,
                                   created_by=audit.actor_name(actor), reason=reason)
    audit.record("policy.set_pack", actor=actor, object_type="pack", object_id=s.pack,
                 before={"pack": before}, after={"pack": s.pack, "effective_from": effective_from}, reason=reason)
    return s


def do_create_upload(uploaded, *, kind: str, options: dict | None = None, actor, reason: str = ""):
    """Keep a file uploaded from the browser and put its import on the task queue (``core.uploads``): stored
    under CORDON_HOME/uploads/ID/ (streamed: never whole in memory), with its sha256 and size, scoped to the
    uploader's jurisdiction for the kind's capability. The row, the task and the audit row commit together."""
    from cordon.core import uploads
    from cordon.core.models import Upload
    from cordon.core.tasks import run_upload

    k = uploads.KINDS.get(kind)
    if k is None:
        raise ActionError(_("unknown kind of file %(kind)s") % {"kind": repr(kind)}, field="kind")
    if not access.has_perm(actor, k.capability):
        raise access.Forbidden
    opts = k.check_options(actor, options or {}) if k.check_options else {}
    name = Path(uploaded.name or "upload").name[:200] or "upload"
    dest = uploads.home() / uuid.uuid4().hex / name  # written before the transaction: no lock held meanwhile
    sha256, size = uploads.store(uploaded, dest)
    with transaction.atomic():
        u = Upload(kind=kind, name=name, path=str(dest), sha256=sha256, size=size, options=opts, user=actor,
                   user_name=audit.actor_name(actor))
        u.set_scope_from(uploads.scope_area(actor, k.capability))
        u.save()
        audit.record("upload.create", actor=actor, obj=u, scope=u, reason=reason,
                     after={"kind": kind, "file": name, "sha256": u.sha256, "size": u.size, "options": opts})
        u.task_id = str(run_upload.enqueue(u.pk).id)
    return u


def do_delete_upload_files(now=None, *, actor="system") -> int:
    """Delete the stored file of every upload whose import ended (done or failed) more than
    ``CORDON_UPLOAD_KEEP_DAYS`` days ago (a periodic job, ``core.jobs``). The upload's record stays, with its
    counts, and so does its error report (a file of its own beside it, downloadable still); the record notes
    when (``file_deleted``), and each deletion is one ``upload.file_delete`` audit row. A file deleted and its
    transaction then undone is found gone next time, and recorded then. Returns the number of files deleted."""
    from django.conf import settings

    from cordon.core import clock
    from cordon.core.models import Upload, UploadStatus

    now = now or clock.now()
    days = settings.CORDON_UPLOAD_KEEP_DAYS
    due = (Upload.objects.filter(status__in=(UploadStatus.DONE, UploadStatus.FAILED), file_deleted__isnull=True,
                                 finished__lt=now - dt.timedelta(days=days)).order_by("id"))
    n = 0
    for u in due.iterator(chunk_size=500):
        with transaction.atomic():
            if not Upload.objects.filter(pk=u.pk, file_deleted__isnull=True).update(file_deleted=now):
                continue  # another worker got there first
            Path(u.path).unlink(missing_ok=True)
            audit.record("upload.file_delete", actor=actor, obj=u, scope=u,
                         after={"file": u.name, "sha256": u.sha256, "size": u.size, "finished": u.finished,
                                "report_kept": bool(u.report)},
                         reason=f"kept {days} days after its import ended")
        n += 1
    return n


@transaction.atomic
def do_record_export(listing: str, *, filters: dict, rows: int, fmt: str, masked: bool, actor, reason: str = "",
                     scope=None):
    """Record that a list left the system as a file: which list, with which filters, how many rows, in which
    format, and whether personal data were masked (an unmasked export needs its reason)."""
    if not masked and not (reason or "").strip():
        raise ActionError(_("an export with personal data in full needs a reason"), field="reason")
    return audit.record("list.export" if masked else "list.export_unmasked", actor=actor, object_type="list",
                        object_id=listing, object_repr=listing,
                        after={"filters": filters, "rows": rows, "format": fmt, "masked": masked},
                        reason=reason, scope=scope)


@transaction.atomic
def do_mark_notifications_read(user, ids=None, *, actor, reason: str = "") -> int:
    """Mark the user's own notifications read (``ids``; all unread when None). Reading one's own notices is
    not a change to the city's records: no audit row (the notification keeps when it was read)."""
    from cordon.core import clock
    from cordon.core.models import Notification

    if actor is not None and not isinstance(actor, str) and actor.pk != user.pk:
        raise access.Forbidden
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=clock.now())


@transaction.atomic
def do_set_notify_preferences(user, prefs: dict, *, actor, reason: str = "") -> dict:
    """Set by which outside channels ``user`` gets each kind of notification (``prefs``: kind -> channels)."""
    from cordon.core import notify
    from cordon.core.models import NotifyPreference

    if actor is not None and not isinstance(actor, str) and actor.pk != user.pk:
        raise access.Forbidden
    clean = {}
    for kind, chans in prefs.items():
        if kind not in notify.KINDS:
            raise ActionError(_("unknown kind of notification %(kind)s") % {"kind": repr(kind)}, field="kind")
        bad = [c for c in chans if c not in notify.CHANNELS]
        if bad:
            raise ActionError(_("unknown channel %(c)s; channels: %(all)s")
                              % {"c": repr(bad[0]), "all": ", ".join(notify.CHANNELS)}, field="channels")
        clean[kind] = sorted(set(chans))
    before = dict(NotifyPreference.objects.filter(user=user, kind__in=list(clean)).values_list("kind", "channels"))
    for kind, chans in clean.items():
        NotifyPreference.objects.update_or_create(user=user, kind=kind, defaults={"channels": chans})
    audit.record("notify.preferences", actor=actor, obj=user, object_type="user", before=before, after=clean,
                 reason=reason)
    return clean
