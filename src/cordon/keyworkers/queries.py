"""Reads of key workers: who the user may see (jurisdiction, and for an employer contact only their own
employer's staff), status on a day, the overdue lists per employer and per community."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, Q
from django.utils.translation import gettext as _

from cordon.core import access, clock
from cordon.keyworkers.models import Employer, EmployerContact, KeyWorker
from cordon.places.models import Area
from cordon.core.actions import ActionError
from cordon.core.packs import active_pack
from cordon.policy import cadence
from cordon.policy.cadence import CURRENT, OVERDUE, STATUSES  # noqa: F401 - STATUSES is part of this module's API

EMPLOYER_ROLE = "employer_contact"



def _employer_only(user, cap: str) -> bool:
    """Does the user hold ``cap`` only as an employer contact (no jurisdiction role carrying it)?"""
    grants = [g for g in access.grants_of(user) if access.role_has(g.role, cap)]
    return bool(grants) and all(g.role == EMPLOYER_ROLE for g in grants)


def employer_of(user) -> Employer | None:
    link = EmployerContact.objects.filter(user_id=getattr(user, "pk", None)).select_related("employer").first()
    return link.employer if link else None


def workers_for(user, cap: str = access.KEYWORKERS_READ):
    """The key workers ``user`` may see under ``cap``: within the jurisdiction of the roles carrying it; an
    employer contact (and nothing more) sees their employer's staff only, nobody without a linked employer."""
    qs = KeyWorker.objects.for_user(user, cap)
    if _employer_only(user, cap):
        emp = employer_of(user)
        return qs.filter(employer=emp) if emp is not None else qs.none()
    return qs


def employers_for(user, cap: str = access.KEYWORKERS_READ):
    if not access.has_perm(user, cap):
        return Employer.objects.none()
    if _employer_only(user, cap):
        emp = employer_of(user)
        return Employer.objects.filter(pk=emp.pk) if emp is not None else Employer.objects.none()
    return Employer.objects.all()


def access_worker(user, pk, cap: str = access.KEYWORKERS_READ) -> KeyWorker:
    try:
        return workers_for(user, cap).select_related("person", "employer", "workplace").get(pk=pk)
    except (KeyWorker.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None


def access_employer(user, pk, cap: str = access.KEYWORKERS_READ) -> Employer:
    try:
        return employers_for(user, cap).get(pk=pk)
    except (Employer.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None


def status_q(status: str | None, on: dt.date) -> Q:
    """Workers with ``status`` on day ``on`` (registered by then); None: every registered worker."""
    if status == OVERDUE:  # with no sample the first overdue day is the registration day
        return Q(overdue_from__lte=on)
    if status == CURRENT:
        return Q(registered_on__lte=on, overdue_from__gt=on)
    return Q(registered_on__lte=on)


def status_of(w: KeyWorker, on: dt.date | None = None) -> str:
    on = on or clock.today()
    return OVERDUE if w.overdue_from <= on else CURRENT


def due_of(w: KeyWorker):
    """The last day still current: the day before the worker becomes overdue (None before a first negative)."""
    return None if w.last_negative is None else w.overdue_from - dt.timedelta(days=1)


def filtered(user, *, status: str | None = None, on: dt.date | None = None, employer: int | None = None,
             area: Area | None = None, became: bool = False, cap: str = access.KEYWORKERS_READ):
    """The list pages', exports' and API's one filter: status on ``on``, an employer, an area (the home);
    ``became``: only those whose first overdue day is ``on``."""
    on = on or clock.today()
    qs = workers_for(user, cap).filter(status_q(status, on))
    if became:
        qs = qs.filter(overdue_from=on)
    if employer:
        qs = qs.filter(employer_id=employer)
    if area is not None and area.kind in access.LEVELS:
        qs = qs.filter(**access.within(area))
    return qs.select_related("person", "employer", "workplace").order_by("overdue_from", "id")


def overdue_counts(user, on: dt.date | None = None, cap: str = access.KEYWORKERS_READ) -> dict:
    """Overdue workers on ``on`` per employer and per community, and how many became overdue that day."""
    on = on or clock.today()
    qs = workers_for(user, cap).filter(status_q(OVERDUE, on))
    by_emp = list(qs.order_by().values("employer_id", "employer__name").annotate(
        n=Count("id"), new=Count("id", filter=Q(overdue_from=on))).order_by("employer__name"))
    by_comm = list(qs.order_by().values("community_id").annotate(
        n=Count("id"), new=Count("id", filter=Q(overdue_from=on))).order_by("community_id"))
    names = dict(Area.objects.filter(pk__in=[r["community_id"] for r in by_comm]).values_list("pk", "path"))
    for r in by_comm:
        r["community"] = names.get(r["community_id"], "—")
    return {"on": on, "employers": by_emp, "communities": by_comm, "total": sum(r["n"] for r in by_emp),
            "new": sum(r["new"] for r in by_emp)}


def group_labels() -> dict[str, str]:
    """The pack groups' titles in the page's language (read the pack once per list, not per row)."""
    from cordon.core.packs import active_pack
    from cordon.web.pages import reads_chinese

    lang = "zh" if reads_chinese() else "en"
    return {c.key: c.title.get(lang) for c in active_pack().key_populations}


def group_label(key: str) -> str:
    """A pack group's title (the key itself when the pack in force lacks it)."""
    return group_labels().get(key, key)


def row(w: KeyWorker, on: dt.date | None = None, labels: dict | None = None) -> dict:
    """One worker as lists, exports and the API show them (name masked, no ID number)."""
    from cordon.core.ids import mask_name

    due = due_of(w)
    return {"id": w.pk, "name": mask_name(w.person.name), "group": w.group, "group_label": (labels.get(w.group, w.group) if labels is not None else group_label(w.group)),
            "employer": w.employer.name,
            "employer_id": w.employer_id, "status": status_of(w, on), "due": due,
            "overdue_from": w.overdue_from, "last_negative": w.last_negative, "registered_on": w.registered_on,
            "workplace": w.workplace.path if w.workplace_id else "", "positive_on": w.positive_on}


def any_key_workers() -> bool:
    return KeyWorker.objects.exists()


def overdue_among(person_ids, day: dt.date) -> set[int]:
    """Which of these residents are key workers overdue on ``day`` (passes.hooks.OVERDUE)."""
    ids = list(person_ids)
    if not ids:
        return set()
    return set(KeyWorker.objects.filter(person_id__in=ids).filter(status_q(OVERDUE, day))
               .values_list("person_id", flat=True))


def overdue_exists(person, day: dt.date) -> Exists:
    """Is the resident ``person`` (an expression: ``OuterRef("holder_id")``) a key worker overdue on ``day``
    (passes.hooks.OVERDUE_EXISTS: a pass check reads it with the pass)."""
    return Exists(KeyWorker.objects.filter(person_id=person).filter(status_q(OVERDUE, day)))


#: Employers are city-wide records: set up (and their contacts linked) by staff holding keyworkers.write over
#: the whole city, a district or a street, not by a community worker or an employer contact.
MANAGING_LEVELS = ("district", "street")


def may_manage(user) -> bool:
    return any(access.role_has(g.role, access.KEYWORKERS_WRITE) and g.role != EMPLOYER_ROLE
               and (g.area_id is None or g.area.kind in MANAGING_LEVELS) for g in access.grants_of(user))


def first_overdue(registered: dt.date, last_negative: dt.date | None, positive_on: dt.date | None,
                  n: int) -> dt.date:
    """``policy.cadence`` with a positive sample: overdue from its day unless a later negative sample exists."""
    start = cadence.overdue_from(registered, last_negative, n)
    if positive_on is not None and (last_negative is None or positive_on >= last_negative):
        return min(start, positive_on)
    return start


def group_interval(group: str, on: dt.date | None = None) -> int:
    try:
        return cadence.group_interval(active_pack(on), group)
    except KeyError:
        keys = ", ".join(cadence.groups(active_pack(on)))
        raise ActionError(_("group is one of the pack's key populations: %(keys)s") % {"keys": keys},
                          field="group") from None


def latest_negatives(rows, worker_ids) -> dict[int, dt.date]:
    """person -> latest sampling day (the city's day) among ``rows`` (sampled_at, people bytes), for the
    residents in ``worker_ids`` (a sorted numpy array)."""
    import numpy as np

    from cordon.screening.models import decode_ids

    best: dict[int, dt.date] = {}
    if not rows or not len(worker_ids):
        return best
    raw = [bytes(p) if isinstance(p, (bytes, bytearray, memoryview)) else
           np.asarray(decode_ids(p), dtype="<i8").tobytes() for _t, p in rows]
    sizes = np.fromiter((len(b) // 8 for b in raw), dtype=np.int64, count=len(raw))
    flat = np.frombuffer(b"".join(raw), dtype="<i8")  # every tube's people at once
    hit = np.isin(flat, worker_ids)
    if not hit.any():
        return best
    which = np.repeat(np.arange(len(rows)), sizes)[hit]
    persons = flat[hit].astype(np.int64)
    tz = clock.tz()
    row_day = np.zeros(len(rows), dtype=np.int64)
    ordinals: dict = {}  # a round has few distinct sampling minutes: each converted once
    for r in np.unique(which).tolist():
        t = rows[r][0]
        d = ordinals.get(t)
        if d is None:
            when = t if isinstance(t, dt.datetime) else dt.datetime.fromisoformat(str(t))
            when = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
            d = ordinals[t] = when.astimezone(tz).date().toordinal()
        row_day[r] = d
    days = row_day[which]
    order = np.lexsort((days, persons))  # by person, then day: each person's last is their latest
    p_sorted, d_sorted = persons[order], days[order]
    last = np.ones(len(p_sorted), dtype=bool)
    last[:-1] = p_sorted[1:] != p_sorted[:-1]
    best.update(zip(p_sorted[last].tolist(), map(dt.date.fromordinal, d_sorted[last].tolist())))
    return best
    which = np.repeat(np.arange(len(rows)), sizes)[hit]
    tz = clock.tz()
    for person, r in zip(flat[hit].tolist(), which.tolist()):
        t = rows[r][0]
        t = t if isinstance(t, dt.datetime) else dt.datetime.fromisoformat(str(t))
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        day = t.astimezone(tz).date()
        if person not in best or day > best[person]:
            best[person] = day
    return best
