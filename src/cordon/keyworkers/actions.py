"""Actions on key workers: employers and their contacts, registration (one by one or from a file), on-site
samples, and the samples the screening results feed brings (``do_take_screening_batch``).

Counting (POLICY.md, ``policy.cadence``): N = per_days // times of the worker's pack group; a negative sample
on day T makes the worker current T .. T+N and overdue from T+N+1 (``overdue_from``, kept on the worker); with
no sample the worker is overdue from the registration day. A positive sample is recorded as an infection
(cases) and makes the worker overdue from that day: never current. Pooled screening tubes count when negative
(a positive pool's people are recalled and retested by screening, whose positive retest is the infection)."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils.translation import gettext as _

from cordon.cases.actions import do_record_infection
from cordon.cases.models import Found
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.keyworkers.models import Employer, EmployerContact, EmployerKind, KeyWorker, OnSiteSample
from cordon.core.models import TestResult
from cordon.keyworkers.queries import (EMPLOYER_ROLE, _employer_only, employer_of, first_overdue, group_interval, latest_negatives,
                                      may_manage)
from cordon.places.models import Area, Resident




def _check_write(actor, worker_or_area=None, employer: Employer | None = None) -> None:
    """A user actor needs keyworkers.write over the record; an employer contact only for their own staff."""
    if actor is None or isinstance(actor, str):
        return
    if not access.has_perm(actor, access.KEYWORKERS_WRITE):
        raise access.Forbidden
    if _employer_only(actor, access.KEYWORKERS_WRITE):
        mine = employer_of(actor)
        if mine is None or employer is None or mine.pk != employer.pk:
            raise access.Forbidden
    if worker_or_area is not None and not access.can(actor, access.KEYWORKERS_WRITE, worker_or_area):
        raise access.Forbidden


def _check_manager(actor) -> None:
    """An employer is a record of the whole city: outside a community worker's or an employer contact's
    jurisdiction (answered as any record outside it is: not found)."""
    if actor is not None and not isinstance(actor, str) and not may_manage(actor):
        raise access.NotFound


# ============================================================================== employers


@transaction.atomic
def do_create_employer(name: str, *, kind: str, actor=None, reason: str = "") -> Employer:
    _check_manager(actor)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ActionError(_("a name of 1 to 120 characters is required"), field="name")
    if kind not in EmployerKind.values:
        raise ActionError(_("kind is one of %(values)s") % {"values": ", ".join(EmployerKind.values)}, field="kind")
    serialize("keyworkers.employer", name)
    if Employer.objects.filter(name=name).exists():
        raise Conflict(_("an employer named %(name)s already exists") % {"name": repr(name)}, field="name")
    e = Employer.objects.create(name=name, kind=kind)
    audit.record("employer.create", actor=actor, obj=e, object_type="employer", after={"name": name, "kind": kind},
                 reason=reason)
    return e


@transaction.atomic
def do_link_contact(employer: Employer, *, username: str, actor=None, reason: str = "") -> EmployerContact:
    """Link a user holding the employer-contact role to ``employer`` (they then see its staff only)."""
    _check_manager(actor)
    user = get_user_model().objects.filter(username=(username or "").strip()).first()
    if user is None:
        raise ActionError(_("no such user"), field="username")
    if not user.grants.filter(role=EMPLOYER_ROLE).exists():
        raise ActionError(_("this user does not hold the employer-contact role"), field="username")
    link = EmployerContact.objects.select_for_update().filter(user=user).first()
    before = {"employer": link.employer.name} if link else None
    if link is None:
        link = EmployerContact(user=user)
    link.employer, link.linked_at = employer, clock.now()
    link.save()
    audit.record("employer.link_contact", actor=actor, obj=employer, object_type="employer", before=before,
                 after={"employer": employer.name, "user": user.username}, reason=reason)
    return link


# ============================================================================== workers


def _home_unit(person: Resident) -> Area:
    return Area.objects.get(pk=person.unit_id)


@transaction.atomic
def do_register_key_worker(person: Resident, *, group: str, employer: Employer, workplace: Area | None = None,
                           registered_on: dt.date | None = None, actor=None, reason: str = "") -> KeyWorker:
    """Register a resident as a key worker of ``employer`` in a pack group (home: the resident's household)."""
    on = registered_on or clock.today()
    if person is None:
        raise ActionError(_("no such resident"), field="person")
    if employer is None:
        raise ActionError(_("no such employer"), field="employer")
    n = group_interval(group, on)
    serialize("keyworkers.person", person.pk)
    if KeyWorker.objects.filter(person_id=person.pk).exists():
        raise Conflict(_("this resident is already registered as a key worker"), field="person")
    w = KeyWorker(person=person, group=group, employer=employer, workplace=workplace, registered_on=on,
                  cadence_days=n, overdue_from=on)
    w.set_scope_from(person)
    _check_write(actor, w, employer)
    w.save()
    audit.record("keyworker.register", actor=actor, obj=w, object_type="keyworker",
                 after={"group": group, "employer": employer.name, "registered_on": on,
                        "workplace": workplace.path if workplace else "", "overdue_from": on}, reason=reason)
    return w


def _take_negative(w: KeyWorker, on: dt.date) -> None:
    if w.last_negative is None or on > w.last_negative:
        w.last_negative = on
    w.overdue_from = first_overdue(w.registered_on, w.last_negative, w.positive_on, w.cadence_days)


def _take_result(w: KeyWorker, result: str, on: dt.date) -> None:
    """A single-tube sample of ``on`` on the worker (unsaved): positive, overdue from its day; negative, the
    latest sample when it is their newest."""
    if result == TestResult.POSITIVE:
        w.positive_on = max(on, w.positive_on) if w.positive_on else on
        w.overdue_from = first_overdue(w.registered_on, w.last_negative, w.positive_on, w.cadence_days)
    else:
        _take_negative(w, on)


@transaction.atomic
def do_record_sample(worker: KeyWorker, *, result: str, on: dt.date | None = None, actor=None,
                     reason: str = "") -> OnSiteSample:
    """An on-site single-tube sample taken on ``on``. Negative: the worker is current from its day (when it is
    their newest). Positive: an infection (cases, found in the community) and overdue from that day."""
    on = on or clock.today()
    if result not in TestResult.values:
        raise ActionError(_("result must be negative or positive"), field="result")
    if on > clock.today():
        raise ActionError(_("a sample cannot be taken in the future"), field="on")
    w = lock(worker)
    _check_write(actor, w, w.employer)
    before = {"last_negative": w.last_negative, "overdue_from": w.overdue_from}
    s = OnSiteSample(worker=w, on=on, result=result, recorded_at=clock.now(), actor=audit.actor_name(actor))
    s.set_scope_from(w)
    if result == TestResult.POSITIVE:
        person = Resident.objects.get(pk=w.person_id)
        s.infection = do_record_infection(
            label=f"KW{w.pk}-{on:%Y%m%d}", home=_home_unit(person), found=Found.COMMUNITY, confirmed_on=on,
            resident=person, actor=actor, reason=f"key worker's on-site sample positive ({w.employer.name})")
    _take_result(w, result, on)
    w.save(update_fields=["last_negative", "positive_on", "overdue_from"])
    s.save()
    audit.record("keyworker.sample", actor=actor, obj=w, object_type="keyworker", before=before,
                 after={"on": on, "result": result, "last_negative": w.last_negative, "overdue_from": w.overdue_from,
                        "infection": s.infection.label if s.infection else None}, reason=reason)
    return s


# ============================================================================== the screening results feed

@transaction.atomic
def do_take_retest(resident_id: int, *, result: str, on: dt.date, infection=None, actor="system") -> KeyWorker | None:
    """A recalled person's single-tube retest (``screening.hooks.AFTER_RETEST``) as the sample of the key worker
    they are, if they are one: negative, the latest sample when it is their newest; positive, overdue from its
    day (screening has recorded the infection already). Returns the worker, None for anyone else."""
    w = KeyWorker.objects.select_for_update().filter(person_id=resident_id).first()
    if w is None:
        return None
    before = {"last_negative": w.last_negative, "positive_on": w.positive_on, "overdue_from": w.overdue_from}
    _take_result(w, result, on)
    w.save(update_fields=["last_negative", "positive_on", "overdue_from"])
    audit.record("keyworker.retest", actor=actor, obj=w, object_type="keyworker", before=before,
                 after={"on": on, "result": result, "last_negative": w.last_negative, "positive_on": w.positive_on,
                        "overdue_from": w.overdue_from, "infection": infection.label if infection else None},
                 reason="single-tube retest (screening recall)")
    return w


_PG_UPDATE = """
UPDATE keyworkers_keyworker w SET last_negative = v.day,
  overdue_from = CASE WHEN w.positive_on IS NOT NULL AND w.positive_on >= v.day
                      THEN LEAST(w.positive_on, v.day + w.cadence_days + 1) ELSE v.day + w.cadence_days + 1 END
FROM unnest(%s::int[], %s::date[]) AS v(person, day)
WHERE w.person_id = v.person AND (w.last_negative IS NULL OR w.last_negative < v.day)"""

_SQLITE_UPDATE = """
UPDATE keyworkers_keyworker SET last_negative = %s,
  overdue_from = CASE WHEN positive_on IS NOT NULL AND positive_on >= %s
                      THEN min(positive_on, date(%s, '+' || (cadence_days + 1) || ' days'))
                      ELSE date(%s, '+' || (cadence_days + 1) || ' days') END
WHERE person_id = %s AND (last_negative IS NULL OR last_negative < %s)"""


def _negative_tubes(batch) -> list:
    """(sampled_at, people bytes) of the batch's tubes that have a negative result (a registrations batch: its
    tubes already reported; a results batch: its tubes already registered)."""
    from cordon.screening.models import BatchKind, Sample, TubeResult

    smp, res = Sample._meta.db_table, TubeResult._meta.db_table
    side = "s" if batch.kind == BatchKind.SAMPLES else "t"
    with connection.cursor() as c:
        c.execute(f"SELECT s.sampled_at, s.people FROM {res} t JOIN {smp} s ON s.barcode = t.barcode "
                  f"WHERE {side}.batch_id = %s AND t.result = 'negative'", [batch.pk])
        return c.fetchall()


@transaction.atomic
def do_take_screening_batch(batch, *, actor="system") -> int:
    """A finished screening batch's negative tubes as the latest samples of the key workers in them: one read of
    the batch's tubes and one update of the workers (``screening.hooks.AFTER_BATCH``, which calls it only when
    the city has key workers: a hand-registered tube, a phone's tube, call the hook once each). Returns workers
    updated."""
    import numpy as np

    rows = _negative_tubes(batch)
    if not rows:
        return 0
    ids = np.array(sorted(KeyWorker.objects.values_list("person_id", flat=True)), dtype=np.int64)
    best = latest_negatives(rows, ids)
    if not best:
        return 0
    persons = sorted(best)  # in the order of the person index: the update walks it once
    days = [best[p] for p in persons]
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(_PG_UPDATE, [persons, days])
            n = c.rowcount
        else:
            c.executemany(_SQLITE_UPDATE, [[d.isoformat()] * 4 + [p, d.isoformat()] for p, d in zip(persons, days)])
            n = c.rowcount
    audit.record("keyworker.screening_samples", actor=actor, object_type="importbatch", object_id=batch.pk,
                 after={"batch": batch.pk, "kind": batch.kind, "workers": n})
    return n
