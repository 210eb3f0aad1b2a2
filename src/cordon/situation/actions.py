"""Situation actions: the bulletin's life (draft -> approved by a second person -> published, with edits), the
districts' daily close (sign-off, reopening with a reason) and the import of aggregate daily counts. Each action is atomic and writes its audit row (DESIGN.md #2).

Only a commander over the whole city may draft, edit, approve or publish the city's bulletin
(``check_bulletin_authority``); anyone may read a published one.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from cordon import tabular
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, serialize
from cordon.situation import bulletin as bt, public
from cordon.situation.models import Bulletin, BulletinStatus, DailyCount, DayClose, DayCloseStatus

# state -> {action: new state}
TRANSITIONS = {
    BulletinStatus.DRAFT: {"edit": BulletinStatus.DRAFT, "redraft": BulletinStatus.DRAFT,
                           "approve": BulletinStatus.APPROVED},
    BulletinStatus.APPROVED: {"edit": BulletinStatus.DRAFT, "publish": BulletinStatus.PUBLISHED},
    BulletinStatus.PUBLISHED: {},
}


def check_bulletin_authority(actor) -> None:
    """The command capability over the whole city (``core.access``); system actors (strings) pass."""
    if actor is None or isinstance(actor, str):
        return
    if not access.scope_for(actor, access.COMMAND).everything:
        raise access.Forbidden


def _transition(b: Bulletin, action: str) -> str:
    allowed = TRANSITIONS[BulletinStatus(b.status)]
    if action not in allowed:
        raise ActionError(_("a %(status)s bulletin cannot be %(action)sd here (allowed: %(value)s)")
                          % {"status": b.get_status_display(), "action": action,
                             "value": ', '.join(allowed) or 'nothing'},
                          field="status")
    return allowed[action]


@transaction.atomic
def do_draft_bulletin(day: dt.date, *, actor=None) -> Bulletin:
    """Draft (or re-draft, while still a draft) the bulletin for ``day`` from the records."""
    check_bulletin_authority(actor)
    if day > clock.today():
        raise ActionError(_("a bulletin reports a day that has happened"), field="day")
    title, text, figures = bt.draft(day)
    now = clock.now()
    b = Bulletin.objects.select_for_update().filter(day=day).first()
    if b is None:
        b = Bulletin.objects.create(day=day, title=title, text=text, drafted_text=text, figures=figures,
                                    drafted_at=now, drafted_by=audit.actor_name(actor))
        audit.record("bulletin.draft", actor=actor, obj=b, object_type="bulletin",
                     after={"day": day, "status": b.status})
        return b
    _transition(b, "redraft")
    before = {"text": b.text}
    b.title, b.text, b.drafted_text, b.figures = title, text, text, figures
    b.drafted_at, b.drafted_by = now, audit.actor_name(actor)
    b.edited_at, b.edited_by = None, ""  # the text is the draft again: no one's edit in it
    b.save()
    audit.record("bulletin.redraft", actor=actor, obj=b, object_type="bulletin", before=before,
                 after={"day": day, "status": b.status})
    return b


@transaction.atomic
def do_edit_bulletin(b: Bulletin, *, text: str, title: str | None = None, actor=None, reason: str = "") -> Bulletin:
    """Edit the text (an approved bulletin goes back to draft and needs approving again)."""
    check_bulletin_authority(actor)
    b = Bulletin.objects.select_for_update().get(pk=b.pk)
    new_status = _transition(b, "edit")
    text = (text or "").strip()
    if not text:
        raise ActionError(_("the bulletin text cannot be empty"), field="text")
    if len(text) > 50_000:
        raise ActionError(_("the bulletin text is too long (50 000 characters at most)"), field="text")
    before = {"status": b.status, "title": b.title, "text": b.text}
    b.text = text
    if title is not None and title.strip():
        b.title = title.strip()[:200]
    b.status = new_status
    b.edited_at, b.edited_by = clock.now(), audit.actor_name(actor)
    b.approved_at, b.approved_by = None, ""
    b.save()
    audit.record("bulletin.edit", actor=actor, obj=b, object_type="bulletin", before=before,
                 after={"status": b.status, "title": b.title, "text": b.text}, reason=reason)
    return b


def _advance(b: Bulletin, verb: str, stamp: str, *, actor, reason: str, before: str, after: dict) -> Bulletin:
    """Approve or publish: the transition under the row lock, its time and who (``<stamp>_at``/``_by``)."""
    check_bulletin_authority(actor)
    b = Bulletin.objects.select_for_update().get(pk=b.pk)
    b.status = _transition(b, verb)
    setattr(b, f"{stamp}_at", clock.now())
    setattr(b, f"{stamp}_by", audit.actor_name(actor))
    b.save()
    audit.record(f"bulletin.{verb}", actor=actor, obj=b, object_type="bulletin", before={"status": before},
                 after={"status": b.status, **after}, reason=reason)
    return b


def check_second_person(b: Bulletin, actor) -> None:
    """Four eyes: whoever drafted the bulletin's text or edited it last does not approve it."""
    who = audit.actor_name(actor)
    if who in {b.drafted_by, b.edited_by}:
        raise ActionError(_("%(who)s drafted or edited this bulletin and cannot approve it: a second person "
                            "approves") % {"who": who}, field="approved_by")


@transaction.atomic
def do_approve_bulletin(b: Bulletin, *, actor=None, reason: str = "") -> Bulletin:
    """Approve a draft: a second commander, never its drafter or its last editor (``check_second_person``)."""
    check_bulletin_authority(actor)
    check_second_person(Bulletin.objects.select_for_update().get(pk=b.pk), actor)
    return _advance(b, "approve", "approved", actor=actor, reason=reason, before=BulletinStatus.DRAFT, after={})


@transaction.atomic
def do_publish_bulletin(b: Bulletin, *, actor=None, reason: str = "") -> Bulletin:
    b = _advance(b, "publish", "published", actor=actor, reason=reason, before=BulletinStatus.APPROVED,
                 after={"day": b.day})
    public.invalidate()
    return b


# ============================================================================ the districts' daily close

def _check_close_authority(actor, district) -> None:
    """The close-the-day capability over the whole district (districts are public names: Forbidden, not
    NotFound, for anyone else); system actors (strings) pass."""
    if actor is None or isinstance(actor, str):
        return
    if not access.scope_for(actor, access.CLOSE_DAY).contains(district):
        raise access.Forbidden


@transaction.atomic
def do_sign_off_day(district, day: dt.date, *, actor=None, note: str = "") -> DayClose:
    """The district signs off its daily close for ``day`` (who, when). The items still open then
    (``closeday.open_items``) are kept with the sign-off and carried over to the next day with their owners."""
    from cordon.situation.closeday import open_items

    _check_close_authority(actor, district)
    if getattr(district, "kind", None) != "district":
        raise ActionError(_("a daily close is signed off per district"), field="district")
    if day > clock.today():
        raise ActionError(_("a day is closed once it has come"), field="day")
    serialize("situation.dayclose", district.pk, day)
    c = DayClose.objects.select_for_update().filter(district=district, day=day).first()
    if c is not None and c.status == DayCloseStatus.SIGNED:
        raise Conflict(_("%(district)s's close of %(day)s is already signed off (%(who)s, %(at)s)")
                       % {"district": district.name, "day": day.isoformat(), "who": c.signed_by,
                          "at": c.signed_at.astimezone(clock.tz()).strftime("%Y-%m-%d %H:%M")}, field="day")
    items = open_items(district, day)
    before = {"status": c.status} if c is not None else {}
    if c is None:
        c = DayClose(district=district, day=day)
        c.set_scope_from(district)
    c.status, c.signed_at, c.signed_by = DayCloseStatus.SIGNED, clock.now(), audit.actor_name(actor)
    c.note, c.open_items = (note or "").strip()[:300], items
    c.save()
    audit.record("dayclose.sign_off", actor=actor, obj=c, object_type="dayclose", scope=district, before=before,
                 after={"district": district.name, "day": day, "open_items": len(items)}, reason=c.note)
    return c


@transaction.atomic
def do_reopen_day(c: DayClose, *, reason: str, actor=None) -> DayClose:
    """Reopen a signed-off close (something was missed): only with a reason; signed off again later."""
    c = DayClose.objects.select_for_update().select_related("district").get(pk=c.pk)
    _check_close_authority(actor, c.district)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("reopening a daily close needs a reason"), field="reason")
    if c.status != DayCloseStatus.SIGNED:
        raise Conflict(_("this daily close is not signed off"), field="status")
    c.status, c.reopened_at, c.reopened_by, c.reopen_reason = (DayCloseStatus.REOPENED, clock.now(),
                                                                audit.actor_name(actor), reason[:300])
    c.save()
    audit.record("dayclose.reopen", actor=actor, obj=c, object_type="dayclose", scope=c.district,
                 before={"status": DayCloseStatus.SIGNED, "signed_by": c.signed_by},
                 after={"status": c.status, "day": c.day}, reason=reason)
    return c


# ============================================================================ aggregate daily counts

COUNT_COLUMNS = ("confirmed", "asymptomatic", "asym_to_confirmed", "confirmed_in_control",
                 "asymptomatic_in_control", "confirmed_screening", "asymptomatic_screening",
                 "in_control_total", "screening_total", "deaths", "new_local_infections")
REQUIRED = ("date", "confirmed", "asymptomatic")


class CountsFileError(tabular.FileError):
    """The file cannot be read at all (missing, not text in one known encoding, missing required columns)."""


@dataclass
class CountError:
    line: int
    field: str
    reason: str


@dataclass
class CountsReport:
    series: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[CountError] = field(default_factory=list)

    def write_errors(self, path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["line", "field", "reason"])
            for e in self.errors:
                w.writerow([e.line, e.field, e.reason])


def _parse_row(line: int, raw: dict, seen: set, errors: list) -> dict | None:
    bad = []
    day = None
    s = (raw.get("date") or "").strip()
    try:
        day = dt.date.fromisoformat(s)
    except ValueError:
        bad.append(CountError(line, "date", f"not a date (YYYY-MM-DD): {s!r}"))
    vals = {}
    for col in COUNT_COLUMNS:
        if col not in raw or raw[col] is None:
            continue
        v = raw[col].strip()
        if v == "":
            vals[col] = None
            continue
        try:
            n = int(v)
        except ValueError:
            bad.append(CountError(line, col, f"not a whole number: {v!r}"))
            continue
        if n < 0:
            bad.append(CountError(line, col, f"negative count: {n}"))
            continue
        vals[col] = n
    for col in REQUIRED[1:]:
        if vals.get(col) is None and not any(e.field == col for e in bad):
            bad.append(CountError(line, col, "required"))
    if day is not None and day in seen:
        bad.append(CountError(line, "date", f"{day} appears twice in the file"))
    if bad:
        errors.extend(bad)
        return None
    seen.add(day)
    g = lambda k: vals.get(k) or 0  # noqa: E731
    if g("asym_to_confirmed") > g("confirmed"):
        errors.append(CountError(line, "asym_to_confirmed",
                                 f"{g('asym_to_confirmed')} re-classified exceeds {g('confirmed')} confirmed"))
        return None
    new_local = g("confirmed") - g("asym_to_confirmed") + g("asymptomatic")
    if vals.get("new_local_infections") is not None and vals["new_local_infections"] != new_local:
        errors.append(CountError(line, "new_local_infections",
                                 f"{vals['new_local_infections']} differs from confirmed - asym_to_confirmed + "
                                 f"asymptomatic = {new_local}"))
        return None
    in_control = vals.get("in_control_total")
    if in_control is None:
        in_control = g("confirmed_in_control") + g("asymptomatic_in_control")
    community = vals.get("screening_total")
    if community is None:
        community = g("confirmed_screening") + g("asymptomatic_screening")
    split_known = (in_control + community) > 0 or new_local == 0
    return {"day": day, "confirmed": g("confirmed"), "asymptomatic": g("asymptomatic"),
            "asym_to_confirmed": g("asym_to_confirmed"), "confirmed_in_control": g("confirmed_in_control"),
            "asymptomatic_in_control": g("asymptomatic_in_control"),
            "confirmed_screening": g("confirmed_screening"), "asymptomatic_screening": g("asymptomatic_screening"),
            "in_control": in_control, "community": community, "deaths": g("deaths"), "new_local": new_local,
            "split_known": split_known}


def _read_counts(text: str, series: str) -> tuple[list[dict], CountsReport]:
    report = CountsReport(series=series)
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise CountsFileError(f"missing column(s): {', '.join(missing)} (have: {', '.join(cols) or 'none'})")
    reader.fieldnames = cols
    rows, seen = [], set()
    for i, raw in enumerate(reader, start=2):
        report.rows += 1
        row = _parse_row(i, raw, seen, report.errors)
        if row is not None:
            rows.append(row)
    return rows, report


@transaction.atomic
def do_import_counts(path_or_text, *, series: str, actor=None) -> CountsReport:
    """Import an aggregate daily-counts CSV (columns as the Shanghai 2022 file) into ``series``: good rows are
    kept (idempotent: a re-import updates changed days only), bad rows reported by line, field and reason."""
    series = (series or "").strip()
    if not series or len(series) > 60:
        raise ActionError(_("a series name of 1 to 60 characters is required"), field="name")
    if isinstance(path_or_text, Path) or (isinstance(path_or_text, str) and "\n" not in path_or_text):
        path = Path(path_or_text)
        if not path.is_file():
            raise CountsFileError("no such file", path=path)
        # one encoding for the whole file (UTF-8 with or without BOM, GB18030, UTF-16), refused before any row
        text = tabular.read_text(path, error=CountsFileError)
    else:
        text = path_or_text
    rows, report = _read_counts(text, series)
    existing = {c.day: c for c in DailyCount.objects.filter(series=series)}
    now = clock.now()
    new, changed = [], []
    for r in rows:
        old = existing.get(r["day"])
        if old is None:
            new.append(DailyCount(series=series, imported_at=now, **r))
            continue
        diff = {k: v for k, v in r.items() if getattr(old, k) != v}
        if diff:
            for k, v in diff.items():
                setattr(old, k, v)
            old.imported_at = now
            changed.append(old)
        else:
            report.unchanged += 1
    DailyCount.objects.bulk_create(new, batch_size=1000)
    if changed:
        fields = [f for f in ("confirmed", "asymptomatic", "asym_to_confirmed", "confirmed_in_control",
                              "asymptomatic_in_control", "confirmed_screening", "asymptomatic_screening",
                              "in_control", "community", "deaths", "new_local", "split_known", "imported_at")]
        DailyCount.objects.bulk_update(changed, fields, batch_size=500)
    report.created, report.updated = len(new), len(changed)
    audit.record("counts.import", actor=actor, object_type="dailycount", object_id=series, object_repr=series,
                 after={"rows": report.rows, "created": report.created, "updated": report.updated,
                        "unchanged": report.unchanged, "bad": len(report.errors)})
    return report
