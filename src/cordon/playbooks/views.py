"""Playbook pages (工作指引): the library, and one playbook's steps on a phone. Open to every signed-in
account: a playbook holds no personal data, and volunteers, checkpoint officers and hotline operators read
the same guidance as staff. The checkboxes here are the reader's own (nothing is stored); a step checked on
a task is recorded on the task page (cases)."""
from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cordon.core import access, clock
from cordon.core.packs import active_pack
from cordon.playbooks import queries
from cordon.web.pages import reads_chinese, route

AUDIENCE_LABELS = {"staff": _("Community staff"), "volunteer": _("Volunteers"), "hotline": _("Hotline operators"),
                   "sampling": _("Sampling teams"), "medical": _("Medical staff"), "driver": _("Drivers")}


def _lang() -> str:
    return "zh" if reads_chinese() else "en"


@route("playbooks/", "playbooks_list")
@access.require(access.SIGNED_IN)
def library(request):
    lang = _lang()
    audience = request.GET.get("audience") or ""
    if audience not in AUDIENCE_LABELS:
        audience = ""
    rows = [{"p": p, "title": p.title.get(lang), "summary": p.summary.get(lang) if p.summary else "",
             "steps": len(p.steps), "task": p.key.startswith("task_"),
             "audience": [AUDIENCE_LABELS[a] for a in p.audience]}
            for p in queries.library(clock.today()) if not audience or audience in p.audience]
    pack = active_pack(clock.today())
    return render(request, "playbooks/library.html", {
        "rows": rows, "audience": audience, "audiences": list(AUDIENCE_LABELS.items()),
        "pack": pack.title.get(lang), "pack_name": pack.name})


@route("playbooks/<slug:key>/", "playbooks_detail")
@access.require(access.SIGNED_IN)
def detail(request, key: str):
    lang = _lang()
    other = "en" if lang == "zh" else "zh"
    pb = queries.get(key, clock.today())
    if pb is None:
        raise access.NotFound
    # an English page also gives each step's Chinese (what residents and most staff read)
    steps = [{**s, "other": pb.steps[s["n"] - 1].text.get(other) if lang == "en" else ""}
             for s in queries.checklist(pb, None, lang)]
    pack = active_pack(clock.today())
    return render(request, "playbooks/detail.html", {
        "pb": pb, "title": pb.title.get(lang), "summary": pb.summary.get(lang) if pb.summary else "",
        "steps": steps, "other_lang": "zh-Hans" if other == "zh" else "en", "audience": [AUDIENCE_LABELS[a] for a in pb.audience],
        "source": pack.cite(pb.source), "pack": pack.title.get(lang), "pack_name": pack.name})
