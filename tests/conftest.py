"""Personas (DESIGN.md): commander, in-scope community worker, out-of-scope community worker, read-only
auditor, anonymous public; on a tiny city of two communities in one street."""
from __future__ import annotations

import datetime as dt
import os
import re

import pytest

PASSWORD = "test-pass-2022"
UNIT_A = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
UNIT_B = "城关区/皋兰路街道/白银路社区/白银小区/2号楼/1单元"
_RANDOM = re.compile(r' nonce="[^"]*"|(?<=name="csrfmiddlewaretoken" value=")[^"]*')


def without_random_tokens(html: str) -> str:
    """A page without its per-response CSP nonces and CSRF tokens: random text in which a short reference ("P1",
    "D-1") can turn up by chance, so checks that personal data is absent read the page without them."""
    return _RANDOM.sub("", html)


@pytest.fixture(autouse=True)
def _environment_kept():
    """Each test leaves the process environment as it found it: commands run in-process (``cli.main``) may drop
    DATABASE_URL or CORDON_TODAY for their own run (the demo and the scenario runner do), which later tests read."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _cordon_home(tmp_path_factory, settings):
    os.environ.setdefault("CORDON_HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.fixture(autouse=True)
def _fresh_page_cache(request, monkeypatch):
    """Each test has its own keys for rendered page parts (its database rolls back, so change stamps repeat
    from test to test). Tests run inside a transaction that never commits, so a change stamp is counted at
    once instead of at commit (``core.stamps``); tests marked ``django_db(transaction=True)`` keep the real
    commit-time path (tests/core/test_stamps.py)."""
    import uuid

    from cordon.core import stamps

    monkeypatch.setattr(stamps, "PREFIX", f"stamp-{uuid.uuid4().hex}")
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")) and "live_server" not in request.fixturenames:
        monkeypatch.setattr(stamps, "bump", stamps._apply)


@pytest.fixture
def city(db):
    from cordon.core import ids
    from cordon.places.actions import do_create_resident, do_ensure_area, do_get_or_create_household

    unit_a = do_ensure_area(UNIT_A, actor="test")
    unit_b = do_ensure_area(UNIT_B, actor="test")
    hh_a = do_get_or_create_household(unit_a, "101", actor="test")
    hh_b = do_get_or_create_household(unit_b, "201", actor="test")
    ra = do_create_resident(hh_a, {"name": "王秀英", "id_number": ids.make_id_number("620102", dt.date(1938, 3, 2), 1, "F"),
                                   "phone": "13909310001", "lives_alone": True}, actor="test")
    ra2 = do_create_resident(hh_a, {"name": "李建国", "id_number": ids.make_id_number("620102", dt.date(1985, 7, 19), 2, "M"),
                                    "phone": "13909310002"}, actor="test")
    rb = do_create_resident(hh_b, {"name": "张伟", "id_number": ids.make_id_number("620102", dt.date(1970, 1, 5), 3, "M"),
                                   "phone": "13909310003"}, actor="test")
    from cordon.places.models import Area

    return {
        "unit_a": unit_a, "unit_b": unit_b, "hh_a": hh_a, "hh_b": hh_b, "resident_a": ra, "resident_a2": ra2,
        "resident_b": rb, "community_a": Area.objects.get(path="城关区/皋兰路街道/五泉社区"),
        "community_b": Area.objects.get(path="城关区/皋兰路街道/白银路社区"),
        "district": Area.objects.get(path="城关区"), "street": Area.objects.get(path="城关区/皋兰路街道"),
    }


def _user(name, role, area):
    from cordon.core.actions import do_create_user

    user, _ = do_create_user(name, PASSWORD, role=role, area=area, actor="test")
    return user


@pytest.fixture
def commander(city):
    return _user("commander", "commander", None)


@pytest.fixture
def in_english():
    """Messages read in English (the default language is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def deputy(city):
    """A second city-wide commander: the second pair of eyes on what the commander drafts."""
    return _user("deputy", "commander", None)


@pytest.fixture
def district_officer(city):
    """District officer of 城关区 (both communities): signs off the district's daily close."""
    return _user("district_a", "district_officer", city["district"])


@pytest.fixture
def worker(city):
    """Community worker of 五泉社区 (community A): in scope for unit A."""
    return _user("worker_a", "community_worker", city["community_a"])


@pytest.fixture
def outsider(city):
    """Community worker of 白银路社区 (community B): out of scope for community A."""
    return _user("worker_b", "community_worker", city["community_b"])


@pytest.fixture
def volunteer(city):
    """Volunteer of 五泉社区 (community A): the phone app and delivery outcomes only."""
    return _user("volunteer_a", "volunteer", city["community_a"])


@pytest.fixture
def auditor(city):
    return _user("auditor", "auditor", None)


@pytest.fixture
def personas(commander, worker, outsider, auditor):
    return {"commander": commander, "worker": worker, "outsider": outsider, "auditor": auditor}


def client_for(user):
    from django.test import Client

    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def as_user():
    return client_for


class InvalidTemplateVariable(str):
    """``string_if_invalid`` in tests: a template that names a variable that does not resolve (a typo, a
    missing context key, a method that raised AttributeError, such as ``get_outcome_display`` on a field
    without choices) fails the test instead of rendering an empty string. ``{% if %}`` and ``{% for %}``
    still treat missing values as false / empty, as Django does, and so does ``|default`` (or
    ``|default_if_none``) after a lookup that stopped at ``None`` or at a mapping without that key
    (``{{ r.vehicle.plate|default:"-" }}``); a name missing on any other object fails even there."""

    def __bool__(self):
        import sys

        from django.template.base import FilterExpression, VariableDoesNotExist
        from django.template.context import BaseContext

        frame = sys._getframe(1)
        expr = frame.f_locals.get("self")
        if frame.f_code.co_name != "resolve" or not isinstance(expr, FilterExpression):
            return False  # the value itself, inside a filter: empty as Django's default ""
        exc = sys.exc_info()[1]
        defaulted = any(getattr(f, "__name__", "") in ("default", "default_if_none") for f, _ in expr.filters)
        if defaulted and isinstance(exc, VariableDoesNotExist) and len(exc.params) == 2:
            current = exc.params[1]
            if current is None or isinstance(current, (dict, BaseContext)):
                return False
        return True

    def __contains__(self, key):
        return key == "%s"

    def __mod__(self, var):
        from django.template import TemplateSyntaxError

        raise TemplateSyntaxError(f"invalid template variable: {var}")


@pytest.fixture(autouse=True, scope="session")
def _templates_fail_on_invalid_variables():
    import copy

    from django.conf import settings
    from django.test.utils import override_settings

    templates = copy.deepcopy(settings.TEMPLATES)
    for engine in templates:
        if engine["BACKEND"].endswith("DjangoTemplates"):
            engine.setdefault("OPTIONS", {})["string_if_invalid"] = InvalidTemplateVariable("")
    with override_settings(TEMPLATES=templates):
        yield


@pytest.fixture(autouse=True, scope="session")
def _live_server_one_request_at_a_time_on_in_memory_sqlite():
    """The browser tests' live server shares the test's in-memory SQLite connection with its request threads
    (pytest-django passes it as ``connections_override``); two requests at once (a page's map asking for several
    tiles) then use one sqlite3 connection from two threads, which fails ("bad parameter or other API misuse").
    On that database the live server answers one request at a time (the response read out under the same lock);
    PostgreSQL, and a deployment's SQLite file, give each thread its own connection."""
    import threading

    from django.conf import settings
    from django.test.testcases import LiveServerThread

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3"):
        yield
        return
    lock = threading.Lock()
    create = LiveServerThread._create_server

    def one_at_a_time(app):
        def serve(environ, start_response):
            with lock:
                result = app(environ, start_response)
                try:
                    return [b"".join(result)]
                finally:
                    if hasattr(result, "close"):
                        result.close()
        return serve

    def create_server(self, *args, **kwargs):
        server = create(self, *args, **kwargs)
        set_app = server.set_app
        server.set_app = lambda app: set_app(one_at_a_time(app))
        return server

    LiveServerThread._create_server = create_server
    try:
        yield
    finally:
        LiveServerThread._create_server = create
