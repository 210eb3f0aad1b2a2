from __future__ import annotations

import hashlib
import secrets
import sys

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.access import LEVELS, AppendOnlyManager, ScopedManager  # noqa: F401 - LEVELS is part of this module's API


def _anc(index: bool = True):
    return models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", db_index=index,
    )


def text_choices(name: str, **labels) -> type[models.TextChoices]:
    """A short ``TextChoices`` as one table of ``value=label``, each member named by its value in capitals:
    ``Direction = text_choices("Direction", entry=_("Entry"), exit=_("Exit"))`` has ``Direction.ENTRY``
    (value "entry", label "Entry"), ``.choices``, ``.values`` and ``.labels`` as a class would. The labels stay
    ``gettext_lazy`` literals where the enum is declared (``makemessages`` finds them there). A longer table
    wraps over a few lines; an enum whose values are not names (or are Python keywords, or whose members are
    named otherwise) is declared as a class."""
    module = sys._getframe(1).f_globals["__name__"]  # where it is declared, as for a class (pickling, repr)
    members = [(value.upper(), (value, label)) for value, label in labels.items()]
    return models.TextChoices(name, members, module=module)


class ScopedFields(models.Model):
    """Ancestor ids at each level (self-inclusive for areas); the basis of jurisdiction scoping."""

    district = _anc()
    street = _anc()
    community = _anc()
    compound = _anc()
    building = _anc()
    unit = _anc()

    objects = ScopedManager()  # ``Model.objects.for_user(user)``: reads under a jurisdiction

    class Meta:
        abstract = True

    def set_scope_from(self, area) -> None:
        for level in LEVELS:
            setattr(self, f"{level}_id", getattr(area, f"{level}_id") if area is not None else None)

    def scope_dict(self) -> dict:
        return {f"{lv}_id": getattr(self, f"{lv}_id") for lv in LEVELS}

    def area_ids(self) -> tuple | None:
        """The record's district, street and community ids (what ``core.stamps`` counts a change on), or None when
        some are not loaded (a deferred field is not read here: that would cost a query)."""
        d = self.__dict__
        if "district_id" in d and "street_id" in d and "community_id" in d:
            return d["district_id"], d["street_id"], d["community_id"]
        return None

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        obj = super().from_db(db, field_names, values, **kwargs)
        if getattr(cls, "_cordon_watched", False):  # a change stamp's domain (``core.stamps.watch``)
            obj._cordon_areas = obj.area_ids()  # the areas it leaves if it moves
        return obj


class LeanScopedFields(ScopedFields):
    """The same ancestor ids without an index each, for tables written in bulk (orders, audit rows, coverage
    rows): such a model declares one composite (district, street, community, ...) index instead, which
    answers every level because ``access.Scope`` names a grant's whole ancestor chain."""

    district = _anc(index=False)
    street = _anc(index=False)
    community = _anc(index=False)
    compound = _anc(index=False)
    building = _anc(index=False)
    unit = _anc(index=False)

    class Meta:
        abstract = True


class TimelineEntry(models.Model):
    """An entry of a record's timeline (a care request's, a response task's, a hotline ticket's): when it was
    written and by whom (a user name, or "system"), shown oldest first."""

    at = models.DateTimeField()
    actor = models.CharField(max_length=150)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


#: A task's status: response tasks (cases) and recall tasks (screening).
TaskStatus = text_choices("TaskStatus", open=_("Open"), done=_("Done"))


#: A test's result where an invalid sample is not recorded: key places' on-site tests, key workers' samples
#: (screening's tubes add "invalid").
TestResult = text_choices("TestResult", negative=_("Negative"), positive=_("Positive"))


Role = text_choices(
    "Role", commander=_("Commander"), district_officer=_("District officer"), street_officer=_("Street officer"),
    community_worker=_("Community worker"), hotline_operator=_("Hotline operator"),
    medical_dispatcher=_("Medical dispatcher"), logistics_officer=_("Logistics officer"),
    keyplace_manager=_("Key-place manager"), employer_contact=_("Employer contact"),
    checkpoint_officer=_("Checkpoint officer"), volunteer=_("Volunteer"), auditor=_("Auditor (read-only)"),
)


class Grant(models.Model):
    """A role held over a jurisdiction node (``area`` null = the whole city)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=24, choices=Role.choices)
    area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "area"], name="grant_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.area.path if self.area_id else '*'}"


class ApiToken(models.Model):
    """A bearer token for the API. Only a hash is kept; the token is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_secret() -> str:
        return "cdn_" + secrets.token_urlsafe(32)


class AuditEntry(LeanScopedFields):
    """Append-only record of an action. Updates and deletes are refused by the model and by DB triggers.

    The table written most: every bulk action (the day-start release, the tick) adds a row per record, so it
    carries few indexes (a row enters four): time, object (id, type), and one (district, street, community, at)
    index for scoping at every level (``access.Scope`` names the whole ancestor chain) in the log's order; the
    actor index holds only rows with a user (system rows stay out); no ``LIKE`` twins. None on ``action``: the
    log's action filter is a prefix (``LIKE 'order.%'``), which a plain index serves only under the C collation,
    and the log is read newest first through ``at`` (core 0015: 120 k release rows about 0.1 s faster)."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+", db_index=False)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=400, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    rule = models.CharField(max_length=400, blank=True)
    #: When the action happened where it was done, when that is not when it reached the server (a change made
    #: offline on a phone and synced later: ``at`` is its arrival, ``occurred_at`` the phone's time).
    occurred_at = models.DateTimeField(null=True, blank=True)

    objects = AppendOnlyManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["district", "street", "community", "at"], name="audit_scope"),
                   models.Index(fields=["object_id", "object_type"], name="audit_object"),
                   models.Index(fields=["actor"], name="audit_actor", condition=models.Q(actor__isnull=False))]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class JobRun(models.Model):
    """One run of a named periodic job for a key (e.g. the day-start tick for a date), under a lease.

    The unique (name, key) row is the record of the period: a worker inserts it (or takes it over by
    compare-and-set once its lease has run out) and holds it until ``lease_until``, extended by a heartbeat
    while it runs. ``result`` collects each finished step's result, committed with the step, so a run taken
    over after a crash goes on from the first step not done. ``core.periodic`` runs them.
    """

    RUNNING, RETRY, DONE, FAILED = "running", "retry", "done", "failed"
    STATUSES = [(RUNNING, "running"), (RETRY, "waiting to retry"), (DONE, "done"), (FAILED, "failed")]

    name = models.CharField(max_length=60)
    key = models.CharField(max_length=60)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=RUNNING)
    attempts = models.PositiveIntegerField(default=1)
    owner = models.CharField(max_length=120, blank=True, default="")  # host:pid:token of the lease holder
    lease_until = models.DateTimeField(null=True, blank=True)  # running: lease end; retry: not before
    heartbeat = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")  # the last failure (the audit log has each one)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "key"], name="jobrun_once")]
        indexes = [models.Index(fields=["status"], name="jobrun_status")]

    def __str__(self) -> str:
        return f"{self.name} {self.key}"


class Stamp(models.Model):
    """A change counter per domain ("care", "hotline"): bumped after every committed change to the domain's
    records (``core.stamps``), read by busy pages to reuse what they rendered for the same data."""

    name = models.CharField(max_length=40, primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.n}"


class PackSetting(models.Model):
    """Which policy pack the deployment applies from which date (the latest one whose date has come). Every
    app reads it through ``core.packs``; the table keeps the name it had when zones held it."""

    pack = models.CharField(max_length=80)
    effective_from = models.DateField()
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        db_table = "zones_packsetting"
        ordering = ["-effective_from", "-id"]


class TaskLease(models.Model):
    """The lease of a queued task (``django_tasks_db``'s ``DBTaskResult``) a ``cordon worker`` is running: held
    until ``lease_until``, extended by a heartbeat. A task whose worker was killed keeps ``RUNNING`` with a
    lease that runs out; any worker then puts it back in the queue (``core.queue.recover``)."""

    task_id = models.UUIDField(primary_key=True)
    owner = models.CharField(max_length=120)
    lease_until = models.DateTimeField(db_index=True)
    heartbeat = models.DateTimeField()


#: An upload's states: queued (its task waits for a worker), running, done, failed (refused as a whole).
UploadStatus = models.TextChoices("UploadStatus", [
    ("QUEUED", ("queued", _("Queued"))), ("RUNNING", ("running", _("Running"))), ("DONE", ("done", _("Done"))),
    ("FAILED", ("failed", _("Failed")))])


class Upload(ScopedFields):
    """A file uploaded from the browser (``core.uploads``): stored under CORDON_HOME, imported by a task on the
    queue through the same pipeline as ``cordon import KIND FILE``. Scoped to the uploader's jurisdiction (the
    area of their grant for the kind's capability; none for a city-wide grant)."""

    kind = models.CharField(max_length=20)
    name = models.CharField(max_length=200)             # the file's name as uploaded
    path = models.CharField(max_length=500)             # where it is stored
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    options = models.JSONField(default=dict, blank=True)  # what the kind asks besides the file (round, series)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.QUEUED)
    measure = models.CharField(max_length=10, default="bytes")  # what done/total count: bytes or rows
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)  # where a resumed run goes on (kinds that need it)
    errors = models.BigIntegerField(default=0)
    report = models.CharField(max_length=500, blank=True)  # the (line, field, reason) CSV, when there are errors
    message = models.TextField(blank=True)                  # why it failed as a whole
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # when the stored file was deleted, its retention over (``do_delete_upload_files``); the record and the
    # error report stay
    file_deleted = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def audit_repr(self) -> str:
        return f"upload {self.pk} {self.kind} {self.name}"[:400]


class Notification(models.Model):
    """An in-app notification for one user (``core.notify``): written in the transaction of the action that
    causes it, in both languages (the reader's picks one), with a link to the record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20)
    text_zh = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread"),
                   models.Index(fields=["user", "created"], name="notification_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.text_en[:40]}"


class Delivery(models.Model):
    """One notification to send by one outside channel (SMS, e-mail, WeCom): stored with the notification,
    sent after the commit and retried by the worker until sent (``core.notify``). ``log`` keeps every try."""

    PENDING, SENDING, SENT = "pending", "sending", "sent"
    STATUSES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent")]

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    next_try = models.DateTimeField()  # pending: not before; sending: the claim's lease end
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    log = models.JSONField(default=list, blank=True)  # [[at, ok, error], ...]

    class Meta:
        indexes = [models.Index(fields=["status", "next_try"], name="delivery_due",
                                condition=~models.Q(status="sent"))]


class NotifyPreference(models.Model):
    """By which outside channels a user wants one kind of notification (in-app is always on)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    channels = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notifypref_unique")]
