"""API for the playbook library (工作指引) of the pack in force: the list (optionally for one audience) and
one playbook with its steps in both languages. Open to every signed-in account (no personal data); a step is
checked off on a task through ``POST /api/tasks/{task_id}/note`` with ``step``."""
from __future__ import annotations

from ninja import Query, Router, Schema

from cordon.core import access, clock
from cordon.core.fields import one_of
from cordon.playbooks import queries
from cordon.policy.pack import AUDIENCES, Playbook

router = Router(tags=["playbooks"])


class TextOut(Schema):
    zh: str
    en: str


class StepOut(Schema):
    key: str
    text: TextOut
    source: str
    unverified: bool


class PlaybookOut(Schema):
    key: str
    title: TextOut
    summary: TextOut | None
    audience: list[str]
    source: str
    unverified: bool
    digest: str                       # identifies this wording of the steps (a run records it)
    steps: list[StepOut]


class PlaybookFilter(Schema):
    audience: one_of(AUDIENCES) | None = None


def _text(t) -> dict | None:
    return {"zh": t.zh, "en": t.en} if t is not None else None


def playbook_out(p: Playbook) -> dict:
    return {"key": p.key, "title": _text(p.title), "summary": _text(p.summary), "audience": list(p.audience),
            "source": p.source, "unverified": p.unverified, "digest": p.digest,
            "steps": [{"key": s.key, "text": _text(s.text), "source": s.source, "unverified": s.unverified}
                      for s in p.steps]}


@router.get("/playbooks", response=list[PlaybookOut])
def list_playbooks(request, f: Query[PlaybookFilter]):
    return [playbook_out(p) for p in queries.library(clock.today()) if not f.audience or f.audience in p.audience]


@router.get("/playbooks/{key}", response=PlaybookOut)
def get_playbook(request, key: str):
    p = queries.get(key[:40], clock.today())
    if p is None:
        raise access.NotFound
    return playbook_out(p)


access.declare_operations(router, {"list_playbooks": access.SIGNED_IN, "get_playbook": access.SIGNED_IN})
