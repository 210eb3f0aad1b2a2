"""A crawl of the demo city's pages as every demo role and an anonymous visitor, in both languages.

The demo city is built once for this module with the same code ``cordon demo`` runs (the bulk city load, the
demo accounts and every app's demo step), at a small population, inside a transaction rolled back at the end.
Each viewer starts at the home page (and the write pages it may open, ``WRITE_PAGES``) and follows the links the pages themselves draw (navigation, tabs, filters,
pagination, the first rows of each list) and the choices of each GET filter form:

- no page answers 5xx;
- no drawn link answers 403 or 404 to the viewer it was drawn for;
- no Chinese page shows an untranslated key (a lowercase Latin word such as ``critical`` or ``aged80``) in its
  visible text;
- no page carries an inline ``style`` attribute (the Content-Security-Policy allows style sheets from 'self'
  only, so the browser would drop it);
- one page of each kind, drawn in Chromium 360 px wide with the site's own style sheets and scripts, is no
  wider than the screen (``test_pages_fit_a_phone``);
- templates fail on invalid variables (``string_if_invalid`` raises, tests/conftest.py).
"""
from __future__ import annotations

import re
import time
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.core.signals import got_request_exception

POPULATION = 3_000
SEED = 1
#: a viewer's crawl stops after this many pages: in Chinese (every text checked), then in English
MAX_PAGES = {"zh-hans": 45, "en": 20}
#: from one page, at most this many links of one target pattern are followed (the first rows of a list)
PER_SOURCE_PATTERN = 2
#: at most this many distinct URLs of one pattern (path with ids and numbers as placeholders, query keys)
PER_PATTERN = 3
#: what a search box (``<input type="search">``) is filled with: a place, a surname (people, names of cases)
#: and digits (the end of an ID number or a part of a phone)
SEARCH_TERMS = ("城关", "王", "0001")
SKIP_PREFIXES = ("/api/", "/static/", "/i18n/", "/logout/", "/admin/")
ROLES = ["commander", "district", "street", "community", "hotline", "dispatcher", "logistics", "keyplace",
         "employer", "checkpoint", "volunteer", "auditor", None]
LANGS = ["zh-hans", "en"]

#: a raw key looks like one of the program's keys (``aged80``, ``at_hospital``) or is one
_SLUG = re.compile(r"[a-z]+(?:_[a-z0-9]+)+|[a-z]+\d+")
_WORD = re.compile(r"[a-z][a-z0-9_]*")
#: a page's text is cut into items at these separators: a raw key shows as a whole item ("· critical",
#: "aged80, alone", a table cell "area_round"), never inside a sentence
_SEPARATORS = re.compile(r"[·•,，、;；()（）\[\]|/\n\t]+")
#: the English half of a stored bilingual note ("按时完成 / done") is not a key shown raw
_BILINGUAL_TAIL = re.compile(r"(?<=[\u3400-\u9fff\uff01-\uff5e）])\s+/\s+[^\u3400-\u9fff]+")


def program_keys() -> set[str]:
    """Every key a page might show raw instead of its label: the choices of every model field and every
    ``TextChoices`` of the apps, the label maps of the models (``*_LABELS``, ``*_LEVELS``), the care triage
    priorities and the response steps of the policy packs."""
    from django.apps import apps
    from django.db import models as m

    keys: set[str] = set()
    for config in apps.get_app_configs():
        if not config.name.startswith("cordon."):
            continue
        for model in config.get_models():
            for f in model._meta.get_fields():
                for value, _label in getattr(f, "flatchoices", None) or ():
                    if isinstance(value, str):
                        keys.add(value)
        module = config.models_module
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, m.TextChoices) and obj is not m.TextChoices:
                keys |= set(obj.values)
            elif isinstance(obj, dict) and name.endswith(("_LABELS", "_LEVELS")):
                keys |= {k for k in obj if isinstance(k, str)}
    from cordon.care import triage
    from cordon.policy.pack import list_packs, load_pack

    keys |= set(triage.table())
    for name in list_packs():
        keys |= set(load_pack(name).tasks)
    return {k for k in keys if _WORD.fullmatch(k)}


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    """Links, GET forms and visible text items of a page (not scripts, code, or what is marked
    ``translate="no"``: stored records shown as stored, such as the audit log's objects)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.text: list[str] = []
        self.styled: list[str] = []  # elements with an inline style attribute
        self._stack: list[bool] = []  # per open element: is its content hidden from the check
        self._form: dict | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.styled.append(tag)
        if tag not in _VOID:
            hidden = tag in ("script", "style", "template", "code", "pre") or a.get("translate") == "no"
            self._stack.append(hidden or (bool(self._stack) and self._stack[-1]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": [], "selects": [], "searches": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            if a.get("name") and (a.get("type") or "").lower() == "hidden" and a.get("value") is not None:
                self._form["fields"].append((a["name"], a["value"]))
            elif a.get("name") and (a.get("type") or "").lower() == "search":
                self._form["searches"].append(a["name"])
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "options": []}
            self._form["selects"].append(self._select)
        elif self._select is not None and tag == "option":
            self._select["options"].append(a.get("value", ""))
        for attr in ("placeholder", "title", "aria-label"):
            if a.get(attr) and not (self._stack and self._stack[-1]):
                self.text.append(a[attr])

    def handle_endtag(self, tag):
        if tag not in _VOID and self._stack:
            self._stack.pop()
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if data.strip() and not (self._stack and self._stack[-1]):
            self.text.append(data)


def pattern(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/<n>", parts.path)
    keys = []
    for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)):
        keys.append(f"{k}=<n>" if (k == "page" or v.isdigit()) else f"{k}={v}" if len(v) < 24 else f"{k}=<s>")
    return path + ("?" + "&".join(keys) if keys else "")


def _internal(base: str, href: str) -> str | None:
    if href.startswith(("mailto:", "tel:", "javascript:", "#")):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
        return None
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


def _form_urls(base: str, form: dict) -> list[str]:
    """GET filter forms: one URL per choice of each select (the other fields as drawn), and per search term of
    each search box."""
    if form["method"] != "get":
        return []
    action = urljoin(base, form["action"] or base)
    out = []
    for sel in form["selects"]:
        for value in sel["options"][:8]:
            params = list(form["fields"]) + [(sel["name"], value)]
            out.append(action.split("?")[0] + "?" + urlencode(params))
    for name in form["searches"]:
        for term in SEARCH_TERMS:
            out.append(action.split("?")[0] + "?" + urlencode(list(form["fields"]) + [(name, term)]))
    return out


def untranslated(texts: list[str], keys: set[str], allowed: set[str]) -> list[str]:
    """Raw keys shown in a Chinese page's text items, each with the text it was found in."""
    found = {}
    for text in texts:
        for item in _SEPARATORS.split(_BILINGUAL_TAIL.sub("", text)):
            item = item.strip()
            if item in allowed or item in found or not _WORD.fullmatch(item):
                continue
            if item in keys or _SLUG.fullmatch(item):
                found[item] = " ".join(text.split())[:80]
    return [f"{w!r} in '{ctx}'" for w, ctx in sorted(found.items())]


#: The write pages (forms and bulk pages) every viewer holding their capability starts with besides the home
#: page, so each is crawled as every role that may open it however deep its links lie: URL name -> the
#: record it acts on (a function of the viewer giving a record it may write, or None for a page of no record).
WRITE_PAGES = {
    "cases_infection_new": None, "cases_order_new": None, "cases_spillover_new": None,
    "cases_checkins_bulk": None, "zones_proposals_bulk": None, "supplies_deliveries_bulk": None,
    "account_tokens": None, "settings_pack": None, "hotline_assign_bulk": None, "keyplaces_new": None,
    "keyworkers_register": None, "keyworkers_employer_new": None,
    "passes_new": None, "passes_check": None, "passes_checkpoint_new": None,
    "resources_shift_new": None, "resources_person_new": None, "resources_team_new": None,
    "resources_van_new": None, "resources_lab_new": None,
    "resources_lab_capacity": lambda user: _writable("resources.Lab", user, "resources.write"),
    "cases_order_extend": lambda user: _writable("cases.PersonOrder", user, "cases.write", status="active"),
    "resident_new": lambda user: _writable("places.Area", user, "places.write", kind="unit"),
    "resident_edit": lambda user: _writable("places.Resident", user, "places.write"),
}


def _writable(model: str, user, cap: str, **filters):
    from django.apps import apps

    return apps.get_model(model).objects.for_user(user, cap).filter(**filters).order_by("id").first()


def write_pages(user) -> list[str]:
    """The write pages ``user`` may open (``WRITE_PAGES``), each at a record of theirs where it needs one."""
    from django.urls import reverse

    from cordon.core import access
    from tests.web.test_every_action_has_a_page import page_caps

    caps = page_caps()
    urls = []
    for name, record_of in WRITE_PAGES.items():
        if user is None or not access.has_perm(user, caps[name]):
            continue
        record = record_of(user) if record_of else None
        if record_of is None:
            urls.append(reverse(name))
        elif record is not None:
            urls.append(reverse(name, args=[record.pk]))
    return urls


def crawl(client, lang: str, keys: set[str], allowed: set[str], start=(), pages_out: dict | None = None) -> dict:
    """Breadth-first from the home page (and the ``start`` pages); returns counts and the problems found.
    ``pages_out``, when given, receives the first HTML page of each URL pattern (pattern -> (url, html))."""
    client.cookies["django_language"] = lang
    queue = [("/", "(start)"), *[(url, "(write pages)") for url in start]]
    seen = {"/", *start}
    per_pattern = Counter()
    pages = 0
    problems = []
    statuses = Counter()
    errors = []

    def record(sender, request=None, **kwargs):
        import sys

        errors.append(f"{type(sys.exc_info()[1]).__name__}: {sys.exc_info()[1]}")

    got_request_exception.connect(record)
    try:
        while queue and pages < MAX_PAGES[lang] + len(start):
            url, source = queue.pop(0)
            _visit(client, url, source, lang, keys, allowed, queue, seen, per_pattern, problems, statuses, errors,
                   pages_out)
            pages += 1
    finally:
        got_request_exception.disconnect(record)
    return {"pages": pages, "problems": problems, "statuses": dict(statuses), "patterns": len(per_pattern),
            "left": len(queue)}


def _visit(client, url, source, lang, keys, allowed, queue, seen, per_pattern, problems, statuses, errors,
           pages_out=None):
    errors.clear()
    response = client.get(url)
    statuses[response.status_code] += 1
    if response.status_code >= 500:
        problems.append(f"{response.status_code} {url} (linked from {source}): {'; '.join(errors)[:300]}")
        return
    if response.status_code >= 400:  # 403/404: a link its viewer may not follow; 405: a link to a form's target
        problems.append(f"{response.status_code} {url} (linked from {source})")
        return
    if response.status_code in (301, 302):
        target = _internal("http://testserver" + url, response["Location"])
        if target and target not in seen and not target.startswith("/login/"):
            seen.add(target)
            queue.append((target, f"redirect from {url}"))
        return
    if "text/html" not in response.get("Content-Type", ""):
        return
    page = _Page()
    html = response.content.decode()
    page.feed(html)
    if pages_out is not None:
        pages_out.setdefault(pattern(url), (url, html))
    if page.styled:
        problems.append(f"inline style attribute on {url} ({', '.join(sorted(set(page.styled)))}): the "
                        "Content-Security-Policy drops it; use a class of the app's style sheet")
    if lang == "zh-hans":
        words = untranslated(page.text, keys, allowed)
        if words:
            problems.append(f"untranslated on {url}: {'; '.join(words)}")
    base = "http://testserver" + url
    candidates = [_internal(base, h) for h in page.links]
    for form in page.forms:
        candidates += [_internal(base, u) for u in _form_urls(base, form)]
    from_here = Counter()
    for target in candidates:
        if not target or target in seen:
            continue
        p = pattern(target)
        if from_here[p] >= PER_SOURCE_PATTERN or per_pattern[p] >= PER_PATTERN:
            continue
        from_here[p] += 1
        per_pattern[p] += 1
        seen.add(target)
        queue.append((target, url))


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, request):
    """The demo city (``cordon demo``'s own steps), inside a transaction rolled back after the module."""
    from django.db import transaction

    from cordon.commands import demo
    from cordon.places.bulk import load_city

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            t0 = time.monotonic()
            load_city(POPULATION, SEED, progress=False)
            demo.create_accounts()
            demo.run_steps()
            built = time.monotonic() - t0
            from django.contrib.auth import get_user_model
            from cordon.core.models import AuditEntry

            allowed = set()
            # user names and actors are data (the demo's accounts are called "commander", "district", ...)
            allowed |= {u.lower() for u in get_user_model().objects.values_list("username", flat=True)}
            allowed |= {a.lower() for a in AuditEntry.objects.values_list("actor_name", flat=True).distinct()}
            yield {"built": built, "keys": program_keys(), "allowed": allowed}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    summary = request.config._crawl_summary if hasattr(request.config, "_crawl_summary") else {}
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture and summary:
        with capture.global_and_fixture_disabled():
            _report(reporter, summary, built)


def _report(reporter, summary, built) -> None:
    reporter.write_line("")
    reporter.write_line(f"crawl of the demo city ({POPULATION} residents, built in {built:.0f}s): "
                        "pages per viewer and language")
    for (who, lang), figures in sorted(summary.items()):
        reporter.write_line(f"  {who:<11} {lang:<8} {figures['pages']:>4} pages, {figures['patterns']:>3} "
                            f"patterns, statuses {figures['statuses']}, {figures['seconds']:.1f}s")


@pytest.mark.parametrize("username", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_crawl(demo_city, db, username, request):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(raise_request_exception=False)
    user = get_user_model().objects.get(username=username) if username else None
    if user is not None:
        client.force_login(user)
    start = write_pages(user)
    summary = request.config.__dict__.setdefault("_crawl_summary", {})
    problems = []
    for lang in LANGS:
        t0 = time.monotonic()
        result = crawl(client, lang, demo_city["keys"], demo_city["allowed"], start)
        summary[(username or "anonymous", lang)] = {**result, "seconds": time.monotonic() - t0}
        problems += [f"[{lang}] {p}" for p in result["problems"]]
        assert result["pages"] > (1 if username is None else 5), result
    assert not problems, "\n".join(problems)


#: the viewers whose pages are drawn at a phone's width: between them they reach every app's pages
PHONE_ROLES = ["commander", "community", "auditor", "checkpoint", "keyplace", "logistics", "dispatcher"]
PHONE_WIDTH = 360


@pytest.mark.browser
@pytest.mark.parametrize("username", PHONE_ROLES)
def test_pages_fit_a_phone(demo_city, db, username):
    """One page of each kind a viewer reaches (the crawl's first of each URL pattern, in Chinese, with the demo
    city's data in it), drawn by Chromium at 360 px with the site's own style sheets and scripts (the API calls
    a page's script makes are not answered): the page is no wider than the screen. A table wider than the
    screen scrolls inside its own box (or is stacked into cards) instead of widening the page."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.staticfiles import finders
    from django.test import Client

    from tests.browser.test_browser import launch, require_chromium

    sync_playwright = require_chromium()
    user = get_user_model().objects.get(username=username)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    pages: dict[str, tuple[str, str]] = {}
    crawl(client, "zh-hans", demo_city["keys"], demo_city["allowed"], write_pages(user), pages_out=pages)
    assert len(pages) > 5, sorted(pages)
    documents = {url: html for url, html in pages.values()}

    def answer(route):
        parts = urlsplit(route.request.url)
        url = parts.path + ("?" + parts.query if parts.query else "")
        if parts.path.startswith(settings.STATIC_URL):
            found = finders.find(parts.path[len(settings.STATIC_URL):])
            return route.fulfill(path=found) if found else route.abort()
        if route.request.resource_type == "document" and url in documents:
            return route.fulfill(body=documents[url], content_type="text/html; charset=utf-8")
        return route.abort()

    # (the pages are drawn from what the crawl kept: the browser makes no database call, so the module's
    # transaction holding the demo city is not touched from Playwright's context)
    wide = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 780}, locale="zh-CN",
                                    is_mobile=True, has_touch=True)
            page.route("http://testserver/**", answer)
            for url in documents:
                page.goto("http://testserver" + url, wait_until="load")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE_WIDTH:
                    wide.append(f"{url}: {width} px")
        finally:
            browser.close()
    assert not wide, f"pages wider than a {PHONE_WIDTH} px phone as {username}:\n" + "\n".join(wide)


def test_demo_writes_nothing_dated_after_its_now(demo_city, db):
    """The demo replays three weeks up to the moment it is built: no audit row, event or record after it."""
    from cordon.core import clock
    from cordon.core.models import AuditEntry
    from cordon.hotline.models import TicketEvent
    from cordon.care.models import RequestEvent
    from cordon.zones.models import Designation

    now = clock.now()
    assert AuditEntry.objects.exists()
    assert not AuditEntry.objects.filter(at__gt=now).exists(), \
        list(AuditEntry.objects.filter(at__gt=now).values_list("action", "at")[:10])
    assert not RequestEvent.objects.filter(at__gt=now).exists()
    assert not TicketEvent.objects.filter(at__gt=now).exists()
    assert not Designation.objects.filter(designated_at__gt=now).exists()


def test_demo_audit_rows_name_their_records(demo_city, db):
    """Every audit row the demo writes names its record readably: a model with neither ``audit_repr`` nor
    ``__str__`` is named by its kind and id ("delivery order 12"), never Django's "DeliveryOrder object (12)"."""
    from cordon.core.models import AuditEntry

    rows = AuditEntry.objects.filter(object_repr__regex=r" object \([0-9]+\)$")
    assert not rows.exists(), sorted(set(rows.values_list("action", "object_repr")[:20]))
    delivered = AuditEntry.objects.filter(action="delivery.delivered").first()
    assert delivered.object_repr == f"delivery order {delivered.object_id}"


def test_demo_field_phones_have_work_to_do(demo_city, db):
    """The demo's field accounts open the phone app onto real work: deliveries to confirm at the door (the
    community's sealed unit's boxes are left planned), and for the community worker a round's tubes and households."""
    from django.contrib.auth import get_user_model

    from cordon.phone import queries

    users = {u.username: u for u in get_user_model().objects.filter(username__in=("community", "volunteer"))}
    worker, volunteer = queries.build_slice(users["community"]), queries.build_slice(users["volunteer"])
    from cordon.supplies.models import DeliveryOrder

    # every box of the community's sealed areas but the one the phone demo confirmed is still to be confirmed
    theirs = DeliveryOrder.objects.filter(household__unit__path__startswith=users["community"].grants.get().area.path + "/")
    assert len(worker["deliveries"]) == len(volunteer["deliveries"]) == theirs.filter(status="planned").count() \
        == theirs.count() - 1 > 0
    assert worker["rounds"] and worker["buildings"]
    assert volunteer["user"]["screens"] == ["deliveries"] and not volunteer["buildings"]


def test_public_risk_areas_give_the_real_basis(demo_city, db):
    """Only a designation with a linked infection is published as where an infected person lives or stayed;
    one designated on an exposure place without a linked infection says so."""
    from django.test import Client

    from cordon.places.models import Area
    from cordon.zones import actions as za
    from cordon.zones.models import Designation

    # the levels the public list shows (an area stepped down to low is not on it, whatever it is linked to)
    for d in Designation.objects.filter(level__in=("high", "medium")).prefetch_related("infections") \
            .select_related("area"):
        assert ("感染者" in d.public_reason) == bool(d.infections.all()), (d.area.path, d.public_reason)
    busy = set(Designation.objects.values_list("area_id", flat=True))
    unit = Area.objects.filter(kind="unit").exclude(pk__in=busy).order_by("id").first()
    d = za.do_designate(unit, "medium", reason="流调：确诊病例曾在此停留", exposure_note="便利店",
                        actor="test")
    assert "感染者" not in d.public_reason
    page = Client().get("/public/risk-areas", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert unit.path in page and "涉疫暴露场所" in page


#: every list's export (both formats) and the door-to-door print views, with the capability each list is read under
EXPORTS = [("/zones/export/?tab=active", "view"), ("/cases/contacts/export/", "read_health"),
           ("/cases/arrivals/export/", "read_health"), ("/hotline/export/?tab=all", "hotline.read"),
           ("/care/export/", "care.read"), ("/care/special/export/", "read_personal"),
           ("/supplies/deliveries/export/", "supplies.read"), ("/keyplaces/export/", "keyplaces.read"),
           ("/audit/export/", "audit")]


@pytest.mark.parametrize("username", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_exports_and_prints_as_every_role(demo_city, db, username):
    """Each list's export opens (a file that parses) exactly for the roles holding ``export`` and the list's own
    capability, and is refused (403) for the others, the anonymous sent to sign in; the community worker's
    building prints; nothing answers 5xx."""
    import csv
    import io

    import openpyxl
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cordon.core import access
    from cordon.places.models import Area
    from cordon.screening.models import Round

    client = Client(raise_request_exception=False)
    user = None
    if username:
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
    building = Area.objects.filter(kind="building", path__startswith="城关区/皋兰路街道/五泉社区/").order_by("id").first()
    rnd = Round.objects.order_by("-id").first()
    urls = list(EXPORTS)
    if rnd is not None:
        urls += [(f"/screening/{rnd.pk}/recall/export/", "read_health")]
    for url, cap in urls:
        for fmt in ("csv", "xlsx"):
            r = client.get(f"{url}{'&' if '?' in url else '?'}format={fmt}")
            if user is None:
                assert r.status_code == 302, url
                continue
            may = access.has_perm(user, access.EXPORT) and access.has_perm(user, cap)
            assert r.status_code == (200 if may else 403), (url, fmt, r.status_code)
            if may:
                data = b"".join(r.streaming_content)
                if fmt == "csv":
                    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
                else:
                    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.values)
                assert len(rows) == int(r["X-Rows"]) + 1, url
    prints = [f"/areas/{building.pk}/print/visit/", f"/screening/print/{building.pk}/",
              f"/supplies/deliveries/print/{building.pk}/"]
    if rnd is not None:
        prints.append(f"/screening/{rnd.pk}/missing/{building.pk}/print/")
    for url in prints:
        r = client.get(url, follow=True)
        assert r.status_code < 500, url
        if username == "community":
            assert r.status_code == 200 and b"print.css" in r.content, url


def _close_loop_pages() -> list[str]:
    """The release board, today's and yesterday's daily close (district sign-off) and the page of a closed
    screening round counted for an area: drawn deep in the pages, so visited directly as well."""
    from cordon.core import clock
    from cordon.screening.models import Round

    closed = Round.objects.filter(status="closed").order_by("pk").first()
    today = clock.today()
    urls = ["/zones/release/", f"/situation/daily/{today}/", f"/situation/daily/{today.fromordinal(today.toordinal() - 1)}/"]
    return urls + ([f"/screening/{closed.pk}/"] if closed else [])


#: demo accounts whose role reads no area, round or daily close (``view``): an employer contact sees their staff
#: only, a checkpoint officer passes and the check log only, a volunteer their deliveries on the field app
NO_VIEW = ("employer", "checkpoint", "volunteer")


@pytest.mark.parametrize("username", [r for r in ROLES[:-1] if r not in NO_VIEW])
def test_close_loop_pages_as_every_role(demo_city, db, username):
    """Every signed-in role opens the close-the-loop pages (no 5xx, no 403/404, no raw key in Chinese); the
    demo shows a closed round counted for an area, areas on the board and a signed-off district close."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cordon.screening.models import Round
    from cordon.situation.models import DayClose, Bulletin
    from cordon.zones.models import Event

    assert Round.objects.filter(status="closed").exists()
    assert Event.objects.filter(kind="round", reason__startswith="screening round ", result="negative").exists()
    assert DayClose.objects.filter(status="signed").exists()
    assert Bulletin.objects.filter(status="published").exclude(approved_by="").exists()
    assert all(b.approved_by not in (b.drafted_by, b.edited_by) for b in Bulletin.objects.exclude(approved_by=""))
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    problems = []
    for lang in LANGS:
        client.cookies["django_language"] = lang
        for url in _close_loop_pages():
            _visit(client, url, "(direct)", lang, demo_city["keys"], demo_city["allowed"], [], {url}, Counter(),
                   problems, Counter(), [])
    assert not problems, "\n".join(problems)
    if username == "commander":  # the whole city's board has the demo's areas
        assert client.get("/zones/release/").content.decode().count('class="zone-card') >= 1


def test_notes_the_program_writes_read_in_chinese(demo_city, db):
    """What the program itself writes on a record's history is shown in the page's language, not as its stored
    English: a risk area's change due under the pack and a closed screening round counted for it, a response task's
    escalation, triage's rule on an emergency medical request. A unit's inbox opened on every unit of the
    jurisdiction says so when it is empty. (Found walking the demo on a phone in Chinese.)"""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cordon.care.models import RequestEvent
    from cordon.cases.models import TaskNote
    from cordon.zones.models import Event

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="commander"))
    client.cookies["django_language"] = "zh-hans"
    change = Event.objects.filter(reason="due under the pack").first()
    counted = Event.objects.filter(reason__startswith="screening round ").first()
    note = TaskNote.objects.filter(text__startswith="overdue: escalated to level ").first()
    triaged = RequestEvent.objects.filter(note__startswith="care-triage: ").first()
    assert change and counted and note and triaged
    pages = {f"/zones/{change.designation_id}/": ("due under the pack", "按政策包规则到期调整"),
             f"/zones/{counted.designation_id}/": ("screening round", "核酸筛查轮次 #"),
             f"/cases/infections/{note.task.infection_id}/": ("escalated to level", "逾期未完成，升级至"),
             f"/care/requests/{triaged.request_id}/": ("dispatch within", "分钟内派车")}
    for url, (english, chinese) in pages.items():
        html = client.get(url).content.decode()
        assert english not in html and chinese in html, url
    client.force_login(get_user_model().objects.get(username="keyplace"))
    html = client.get("/inbox/?all=1").content.decode()
    assert "O2" in html or ("辖区内各单位暂无指令" in html and "本单位暂无指令" not in html)
