"""Reads of the playbook library (the pack in force) and of runs. Other apps (cases, command) use these:

    get(key, on=None) -> Playbook | None          the pack's playbook in force on a day
    library(on=None) -> list[Playbook]            every playbook, the declared ones first
    run_of(subject, subject_id, key) -> PlaybookRun | None
    checklist(playbook, run, lang) -> list[dict]  each step with its text and who checked it when
"""
from __future__ import annotations

import datetime as dt

from cordon.core.packs import active_pack
from cordon.playbooks.models import PlaybookRun, StepCheck
from cordon.policy.pack import Playbook


def get(key: str, on: dt.date | None = None) -> Playbook | None:
    return active_pack(on).playbook(key) if key else None


def library(on: dt.date | None = None) -> list[Playbook]:
    """The declared playbooks in pack order, then the response tasks' own checklists."""
    pbs = list(active_pack(on).playbooks.values())
    return [p for p in pbs if not p.key.startswith("task_")] + [p for p in pbs if p.key.startswith("task_")]


def audiences(on: dt.date | None = None) -> list[str]:
    return sorted({a for p in library(on) for a in p.audience})


def run_of(subject: str, subject_id: int, key: str) -> PlaybookRun | None:
    return PlaybookRun.objects.filter(subject=subject, subject_id=subject_id, playbook=key).first()


def checks_of(run: PlaybookRun | None) -> dict[str, StepCheck]:
    return {c.step: c for c in run.checks.all()} if run is not None else {}


def checklist(playbook: Playbook, run: PlaybookRun | None, lang: str = "zh") -> list[dict]:
    """The playbook's steps in order, each with its text in ``lang``, whether it rests on an unverified
    source, and the check (who, when) when one was recorded on the run."""
    checks = checks_of(run)
    return [{"n": i, "key": s.key, "text": s.text.get(lang), "unverified": s.unverified or (playbook.unverified
                                                                                             and not s.source),
             "check": checks.get(s.key)}
            for i, s in enumerate(playbook.steps, 1)]


def progress(playbook: Playbook, run: PlaybookRun | None) -> tuple[int, int]:
    """(steps checked, steps) of a run; steps the pack no longer has are not counted."""
    keys = {s.key for s in playbook.steps}
    return (len(keys & set(checks_of(run))), len(keys))


def runs_for(subject: str, ids) -> dict[tuple[int, str], PlaybookRun]:
    """The runs of many subjects at once, by (subject id, playbook key), with their checks."""
    return {(r.subject_id, r.playbook): r for r in
            PlaybookRun.objects.filter(subject=subject, subject_id__in=list(ids)).prefetch_related("checks")}
