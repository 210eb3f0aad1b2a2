"""Writes of playbook runs: a step checked off on a subject (a response task, a command order). The caller
authorizes the subject (the task's own capability); these record who and when, with an audit row each."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from cordon.core import audit, clock
from cordon.core.actions import ActionError, Conflict, serialize
from cordon.core.packs import active_pack
from cordon.playbooks.models import PlaybookRun, StepCheck, Subject


def _run(subject: str, scoped, key: str) -> PlaybookRun:
    """The subject's run of ``key``, started now with the pack in force when there is none."""
    serialize("playbooks.run", subject, scoped.pk, key)
    run = PlaybookRun.objects.filter(subject=subject, subject_id=scoped.pk, playbook=key).first()
    if run is not None:
        return run
    pack = active_pack()
    pb = pack.playbook(key)
    run = PlaybookRun(subject=subject, subject_id=scoped.pk, playbook=key, pack=pack.name, digest=pb.digest,
                      started_at=clock.now())
    run.set_scope_from(scoped)
    run.save()
    return run


@transaction.atomic
def do_check_step(subject: str, scoped, key: str, step: str, *, actor, note: str = "", reason: str = "") -> StepCheck:
    """Check off ``step`` of playbook ``key`` on ``scoped`` (a record carrying ancestor ids: the task, the
    order); refused for a step the playbook (in the pack in force) does not have, or one already checked."""
    if subject not in Subject.values:
        raise ActionError(gettext("unknown subject %(s)s") % {"s": subject}, field="subject")
    audit.check_text(note, "note")
    pb = active_pack().playbook(key or "")
    if pb is None:
        raise ActionError(gettext("no playbook %(key)s in the pack in force") % {"key": key}, field="playbook")
    if pb.step(step or "") is None:
        raise ActionError(gettext("playbook %(key)s has no step %(step)s") % {"key": key, "step": step},
                          field="step")
    run = _run(subject, scoped, key)
    if run.checks.filter(step=step).exists():
        raise Conflict(gettext("this step is already checked"), field="step")
    user = None if (actor is None or isinstance(actor, str)) else actor
    try:
        with transaction.atomic():
            check = StepCheck.objects.create(run=run, step=step, checked_at=clock.now(), checked_by=user,
                                             actor=audit.actor_name(actor), note=note or "")
    except IntegrityError:  # checked at the same moment by someone else
        raise Conflict(gettext("this step is already checked"), field="step") from None
    audit.record("playbook.check", actor=actor, obj=run, object_type="playbook_run",
                 object_repr=f"{key} · {subject} {scoped.pk}",
                 after={"playbook": key, "step": step, "subject": subject, "subject_id": scoped.pk,
                        "pack": run.pack, "digest": run.digest}, reason=reason or note)
    return check
