"""Hostile input on pages: numbers and ids beyond 64 bits, far dates, bad form input give a page, a 404 or a
form error, never a server error. Every page route is enumerated from the URL configuration."""
from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

HUGE = "99999999999999999999"  # beyond 64 bits
#: one query string carries several hostile parameters at once (each page reads the ones it knows)
QUERIES = [
    f"page={HUGE}&community={HUGE}&area={HUGE}&building={HUGE}&on=9999-12-31&q=%E7%8E%8B&tab=%ED%A0%80",
    "page=-1&on=0001-01-01&status=nonsense&level=nonsense&kind=%F0%9F%98%80&format=nonsense&category=nonsense",
    f"page=1e309&area=-1&community=0&building={2**63}&on=2022-02-30&q=" + "x" * 3000,
    "q=%00&status=%00&category=%00",  # NUL: 400 on every page (web.middleware)
]


def page_routes() -> list[tuple[str, list[str]]]:
    """(route with ``{}`` for each converter, converter names) of every page (not the API, not i18n)."""
    out = []

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                if route.startswith(("api/", "i18n/")):
                    continue
                converters = re.findall(r"<(?:(\w+):)?\w+>", route)
                out.append((re.sub(r"<(?:\w+:)?\w+>", "{}", route), [c or "str" for c in converters]))

    walk(get_resolver().url_patterns, "")
    return out


def _urls_with_huge_ids() -> list[str]:
    urls = []
    for route, converters in page_routes():
        if "int" not in converters:
            continue
        for value in (HUGE, str(2**63), str(2**63 - 1)):
            args = [value if c == "int" else ("2099-01-01" if "date" in c else "x") for c in converters]
            urls.append("/" + route.format(*args))
    return urls


def _urls_with_queries() -> list[str]:
    urls = []
    for route, converters in page_routes():
        if converters or route.startswith(("logout", "login")):
            continue
        for q in QUERIES:
            urls.append("/" + route + "?" + q)
    return urls


@pytest.mark.django_db
def test_ids_beyond_64_bits_answer_404(commander, as_user):
    client = as_user(commander)
    client.raise_request_exception = False
    bad = []
    for url in _urls_with_huge_ids():
        status = client.get(url).status_code
        if status >= 500 or status == 200:
            bad.append((url, status))
    assert not bad, "\n".join(map(str, bad))


@pytest.mark.django_db
def test_hostile_query_strings_never_answer_5xx(commander, worker, as_user):
    bad = []
    for user in (commander, worker, None):  # whole city, one community, anonymous
        client = as_user(user)
        client.raise_request_exception = False
        for url in _urls_with_queries():
            status = client.get(url).status_code
            if status >= 500 or ("%00" in url and status != 400):
                bad.append((user and user.username, url[:120], status))
    assert not bad, "\n".join(map(str, bad))


def test_page_forms_bound_text_numbers_and_dates():
    """``web.forms.CheckedForm``, the base of every page form: what the database would refuse (or store
    differently per engine) is a form error."""
    from django import forms

    from cordon.web.forms import MAX_TEXT, CheckedForm

    class F(CheckedForm):
        text = forms.CharField(required=False)
        short = forms.CharField(max_length=10, required=False)
        n = forms.IntegerField(required=False)
        amount = forms.DecimalField(decimal_places=2, required=False)
        on = forms.DateField(required=False)

    assert F({"text": "正常的文字", "short": "ok", "n": "12", "amount": "3.50", "on": "2026-12-06"}).is_valid()
    for data, field in [({"text": "a\x00b"}, "text"), ({"short": "a\ud800b"}, "short"),
                        ({"text": "x" * (MAX_TEXT + 1)}, "text"), ({"short": "x" * 11}, "short"),
                        ({"n": HUGE}, "n"), ({"n": "-" + HUGE}, "n"), ({"amount": "1e309"}, "amount"),
                        ({"amount": "Infinity"}, "amount"), ({"amount": "NaN"}, "amount"),
                        ({"on": "9999-12-31"}, "on"), ({"on": "0001-01-01"}, "on")]:
        f = F(data)
        assert not f.is_valid() and field in f.errors, (data, f.errors)


def test_date_and_time_inputs_show_their_value_in_every_language():
    """A date or date-and-time input shows only a value in ISO form: in Chinese Django would write the language's
    format (2026/12/07 18:00), which the browser drops, showing an empty field (found on a command order's
    "revise" form, its deadline blank in Chinese). The day of a date and time is bounded as a date's."""
    import datetime as dt

    from django import forms
    from django.utils import translation

    from cordon.web.forms import CheckedForm

    class F(CheckedForm):
        on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        due = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            f = F(initial={"on": dt.date(2026, 12, 7), "due": dt.datetime(2026, 12, 7, 18, 0)})
            assert 'value="2026-12-07"' in str(f["on"]) and 'value="2026-12-07T18:00"' in str(f["due"]), lang
    assert F({"on": "2026-12-07", "due": "2026-12-07T18:00"}).is_valid()
    for due in ("0001-01-01T00:00", "9999-12-31T23:59"):
        f = F({"on": "2026-12-07", "due": due})
        assert not f.is_valid() and "due" in f.errors, due


def test_every_page_form_is_checked():
    """Every form class of the apps derives from ``CheckedForm`` (a new form cannot skip the bounds)."""
    import importlib
    import importlib.util
    import inspect

    from django import forms

    from cordon.web.forms import CheckedForm

    from django.apps import apps

    found = 0
    # every app of the project with a forms module (the command orders' forms once skipped the base)
    names = [c.name for c in apps.get_app_configs() if c.name.startswith("cordon.")]
    modules = [n for n in names if importlib.util.find_spec(f"{n}.forms") is not None]
    assert {"cordon.command", "cordon.resources", "cordon.web"} <= set(modules), modules
    for app in modules:
        module = importlib.import_module(f"{app}.forms")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found += 1
                assert issubclass(cls, CheckedForm), f"{app}.forms.{name}"
    assert found > 30


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bad\x00name", "x" * 121])
def test_posted_text_without_a_form_is_an_error_message(commander, as_user, name):
    from cordon.cases.models import OutsideRegion

    r = as_user(commander).post("/cases/regions/", {"name": name, "level": "high", "source": "test"}, follow=True)
    assert r.status_code == 200
    assert not OutsideRegion.objects.exists()
    assert len(list(r.context["messages"])) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, -3, 10**9, True])
def test_an_order_extension_needs_a_positive_number_of_days(city, worker, days):
    from cordon.cases import actions as ca
    from cordon.core.actions import ActionError
    from tests.cases._cfixtures import cases_records

    o = cases_records(city)["order_positive_a"]
    with pytest.raises(ActionError) as exc:
        ca.do_extend_order(o, days=days, reason="positive on day 1", actor=worker)
    assert exc.value.field == "days"
