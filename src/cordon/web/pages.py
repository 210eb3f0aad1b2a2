"""Scaffolding every app's pages share: reading ids, days and text from a request, paginating, caching a page's
list part, and running a form's action with one error tail.

Imports only ``core`` and Django, so any app may import it at module top (``web`` imports no app).
Access denials (``access.NotFound`` / ``access.Forbidden``) and refusals that a view does not turn into a form
error are answered by ``web.middleware.PageErrorsMiddleware``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.functional import lazy
from django.utils.html import escape
from django.utils.translation import gettext as _

from cordon.core import access, clock, stamps
from cordon.core.actions import ActionError
from cordon.web.forms import MAX_DAY, MAX_ID, MIN_DAY

PAGE_SIZE = 50


# ---------------------------------------------------------------------------------------------- reading a request

def parse_id(value) -> int | None:
    """A positive 64-bit id written in ASCII digits, or None (absent, not a number, zero, beyond 64 bits)."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    n = int(value)
    return n if 0 < n <= MAX_ID else None


def query_id(request, name: str) -> int | None:
    """The positive id in ``request.GET[name]``, or None when absent or not a positive 64-bit integer."""
    return parse_id(request.GET.get(name))


def parse_day(value) -> dt.date | None:
    """A date from a query string within ``MIN_DAY`` .. ``MAX_DAY``; None when absent, malformed or outside."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return day if MIN_DAY <= day <= MAX_DAY else None


def query_day(request) -> dt.date:
    """The day a page is about: ``?on=`` when a valid date, else today."""
    return parse_day(request.GET.get("on")) or clock.today()


def posted_text(request, name: str, max_length: int, default: str = "") -> str:
    """Free text from a posted field read without a form: ``ActionError`` (the page shows it as a form
    error) for a NUL byte, a lone surrogate or more than ``max_length`` characters."""
    value = request.POST.get(name, default)
    if value is None:
        return value
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise ActionError(_("The text holds a character that is not valid Unicode."), field=name)
    if len(value) > max_length:
        raise ActionError(_("At most %(n)s characters.") % {"n": max_length}, field=name)
    return value


def reads_chinese() -> bool:
    """Is the page in Chinese (the primary language; also when no language is active)?"""
    return (translation.get_language() or "zh").startswith("zh")


def in_language(zh: str, en: str) -> str:
    """The text of a record kept in both languages, in the page's language (the Chinese one when there is no
    English)."""
    return zh if reads_chinese() or not en else en


def half_in_language(text: str) -> str:
    """A stored "中文 / English" text: the half in the page's language (the whole text when it has no " / ")."""
    zh, _sep, en = (text or "").partition(" / ")
    return in_language(zh, en)


def _half_cut(text: str, limit: int | None) -> str:
    return half_in_language(text)[:limit]


#: ``lazy_half(text, limit)``: ``half_in_language`` as a lazy text, read in the language active when it is shown
#: (a notification is written once for both languages: each reads its own half)
lazy_half = lazy(_half_cut, str)


def search_text(request, max_length: int = 100) -> str:
    """The page's search box (``q``), trimmed and cut to ``max_length``."""
    return (request.GET.get("q") or "").strip()[:max_length]


def choice_label(model, field: str):
    """A function of a value giving what ``record.get_<field>_display()`` gives, its labels looked up once
    (Django rebuilds and hashes the field's lazy labels on every call: a busy list asks once per row)."""
    labels = dict(model._meta.get_field(field).flatchoices)

    def label(value):
        return force_str(labels.get(value, value), strings_only=True)

    return label


def paginate(request, qs, per_page: int = PAGE_SIZE):
    """The requested page of ``qs``; a page number that is not a number gives the first page, one beyond
    the last (however large) the last page."""
    paginator = Paginator(qs, per_page)
    number = (request.GET.get("page") or "").strip()
    if not (number.isascii() and number.isdigit()):
        return paginator.get_page(1)
    return paginator.get_page(min(int(number), MAX_ID))


def query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def cached_part(request, domains: tuple[str, ...], name: str, build, cap: str = access.VIEW):
    """``build()``'s result for this page as this user sees it (their jurisdiction under ``cap``, the query, the
    language), reused until a change stamp of ``domains`` (of the jurisdiction's areas, for a jurisdiction smaller
    than the city) or the minute moves (``core.stamps``). For the list parts of pages a whole desk reloads."""
    scope = access.scope_for(request.user, cap)
    key = (name, cap, access.scope_key(scope), request.GET.urlencode(), translation.get_language())
    return stamps.cached(domains, key, build, scope=scope)


#: Stand-ins for what differs between two loads of one desk page by two people of the same roles (the CSP
#: nonce, the CSRF token, the signed-in name): random per process, letters and digits only (escaping keeps them).
_SLOT = secrets.token_hex(12)
_NONCE, _CSRF, _WHO = (f"cordon{_SLOT}{n}" for n in ("nonce", "csrf", "who"))


def desk_page(request, template: str, context: dict, vary: tuple, *, ttl: int = 90) -> HttpResponse:
    """``render(request, template, context)`` for a page a whole desk reloads: the page is rendered once per
    process for the viewer's roles (the navigation), language, address and ``vary`` (everything else the
    context holds: the cached list part, the tab, the buttons shown), with stand-ins for the per-request CSP
    nonce, CSRF token and signed-in name, which each load then fills in. A load with messages to show renders
    in full."""
    storage = getattr(request, "_messages", None)
    if storage is not None and len(storage):
        return render(request, template, context)
    user = request.user
    key = "\x1f".join(map(str, (template, translation.get_language(), request.get_full_path(),
                                 ",".join(sorted(access.roles_of(user))), *vary)))
    full = "page:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    html = cache.get(full)
    if html is None:
        html = render_to_string(template, {**context, "csp_nonce": _NONCE, "csrf_token": _CSRF, "cordon_who": _WHO},
                                request)
        cache.set(full, html, ttl)
    html = (html.replace(_NONCE, str(get_nonce(request))).replace(_CSRF, get_token(request))
            .replace(_WHO, escape(user.get_username())))
    return HttpResponse(html)


# ---------------------------------------------------------------------------------------------- running a form

def bind_error(form, exc: ActionError) -> None:
    """Show a refused action on its form: on the field it names when the form has it, else above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def form_errors_text(form) -> str:
    """An invalid form's errors in one line (for a page that shows one error per action box)."""
    return "; ".join(" ".join(e) for e in form.errors.values())


def submit(form, act, fail):
    """The one tail of every form a page posts: a valid form runs ``act(cleaned_data)`` and its answer is the
    page's (usually ``done(...)``); a refused action (``ActionError``) or an invalid form answers
    ``fail(exc)`` (``exc`` is None for an invalid form)."""
    if form.is_valid():
        try:
            return act(form.cleaned_data)
        except ActionError as exc:
            return fail(exc)
    return fail(None)


def form_page(request, form, template: str, context: dict | None = None, *, act, refused_status: int = 400):
    """A page of one form: GET shows it (200); a POST runs ``act(cleaned_data)`` (see ``submit``), and when the
    form is invalid or the action refused, shows the form again with the errors bound to their fields
    (``refused_status``, 400 by default)."""
    status = 200

    def fail(exc):
        nonlocal status
        if exc is not None:
            bind_error(form, exc)
        status = refused_status
        return None

    if request.method == "POST":
        response = submit(form, act, fail)
        if response is not None:
            return response
    return render(request, template, {"form": form, **(context or {})}, status=status)


def posted(request, form, act, back: str, *, refused=str, invalid=form_errors_text):
    """A form posted from a page that answers with a redirect to ``back`` whatever happens (a form in each row of
    a list): an invalid form becomes an error message (``invalid``: a text, or a function of the form), a valid
    one runs ``act()`` as ``attempt`` does."""
    if form.is_valid():
        attempt(request, act, refused=refused)
    else:
        messages.error(request, invalid(form) if callable(invalid) else invalid)
    return redirect(back)


def done(request, message, to, *args, **kwargs):
    """Success: ``message`` for the next page, and a redirect to ``to`` (a URL name or path, as ``redirect``)."""
    messages.success(request, message)
    return redirect(to, *args, **kwargs)


def attempt(request, act, *, ok=None, refused=str):
    """Run ``act()`` for a page that answers with a redirect whatever happens: a refused action becomes an error
    message (``refused(exc)``, the reason by default), a success ``ok`` (a text, or a function of the result)
    when given. Returns the action's result, or None when it was refused."""
    try:
        result = act()
    except ActionError as exc:
        messages.error(request, refused(exc))
        return None
    if ok is not None:
        messages.success(request, ok(result) if callable(ok) else ok)
    return result


def refused_box(request, template: str, context: dict, action: str, form, exc, *, errors=form_errors_text):
    """A detail page with one form per action (``action``), shown again after that form was refused: the
    reason (``exc``, or the form's errors when it was invalid) next to the box and atop the page (the page
    includes ``web/_refused.html``), status 400."""
    error = str(exc) if exc is not None else errors(form)
    return render(request, template, {**context, "error": error, "error_action": action}, status=400)


def record_action(request, action: str, steps: dict, record, *, to: str, template: str, context,
                  errors=form_errors_text):
    """A record's page with one form per action (``prefix`` = the action's slug), one of them posted:
    ``steps`` maps the slug to (form class, ``run(record, cleaned_data, user)``, the message when done). Done:
    back to the record's page ``to`` (a URL name taking its pk); refused or invalid: ``template`` again with
    ``context(bound)`` (``bound``: {slug: the posted form}) and the reason by that form (``refused_box``). An
    unknown slug is not found."""
    if action not in steps:
        raise access.NotFound
    form_class, run, message = steps[action]
    form = form_class(request.POST, request.FILES or None, prefix=action)

    def act(c):
        run(record, c, request.user)
        return done(request, message, to, pk=record.pk)

    return submit(form, act, lambda exc: refused_box(request, template, context({action: form}), action, form, exc,
                                                     errors=errors))


# ---------------------------------------------------------------------------------------------- bulk actions

#: the most rows one submit of a bulk page acts on (a page of a list)
MAX_BULK_ROWS = 200


def run_rows(request, qs, name: str, act, *, label=str, form=None, fields: tuple[str, ...] = ()) -> dict:
    """One submit of a page with a check box per row (``name`` = the row's id) and one button: each checked
    row is one action, ``act(record, values)``, and so one audit row; a refused row (``ActionError``, or a
    record absent from ``qs``, the rows the user may act on) is reported with its reason while the other rows
    are kept. A row's own inputs are posted as ``<field>-<id>`` and checked by ``form`` first (its errors are
    that row's reason). Returns ``{"ok": [label, ...], "failed": [(label, reason), ...]}`` (``bulk_done``)."""
    ids, bad = [], []
    for raw in request.POST.getlist(name)[:MAX_BULK_ROWS + 1]:
        pk = parse_id(raw)
        if pk is None:
            bad.append((raw[:40], _("not a row of this list")))
        elif pk not in ids:
            ids.append(pk)
    report = {"ok": [], "failed": bad}
    if len(ids) > MAX_BULK_ROWS:
        report["failed"].append(("", _("At most %(n)s rows at once.") % {"n": MAX_BULK_ROWS}))
        ids = []
    if not ids and not bad:
        report["failed"].append(("", _("Tick at least one row.")))
    records = qs.in_bulk(ids)
    for pk in ids:
        record = records.get(pk)
        if record is None:
            report["failed"].append((str(pk), _("not found, or not yours to change")))
            continue
        values = {}
        if form is not None:
            f = form({k: request.POST.get(f"{k}-{pk}", "") for k in fields})
            if not f.is_valid():
                report["failed"].append((label(record), form_errors_text(f)))
                continue
            values = f.cleaned_data
        try:
            act(record, values)
        except ActionError as exc:
            report["failed"].append((label(record), str(exc)))
        except (access.NotFound, access.Forbidden):
            report["failed"].append((label(record), _("not found, or not yours to change")))
        else:
            report["ok"].append(label(record))
    return report


def bulk_done(request, report: dict, to, *args, **kwargs):
    """The answer to a bulk submit when every row was done: a message and a redirect to ``to``; None when a
    row was refused (the page shows the report, ``web/_bulk_report.html``, with the list again)."""
    if report["failed"]:
        return None
    return done(request, _("Done for %(n)s rows.") % {"n": len(report["ok"])}, to, *args, **kwargs)


BULK_PAGE = "web/bulk_page.html"


def bulk_context(title, hint, button, rows: str, any_rows, *, lead="", desk: bool = False) -> dict:
    """The context of ``BULK_PAGE``: its title, the hint above the list, the button, the template of the
    list's rows (each with its check box named ``row``), whether there are rows, a line under the title, and
    whether it is a desk's page (the desks' stylesheet and navigation)."""
    return {"bulk": {"title": title, "hint": hint, "button": button, "rows": rows, "any": bool(any_rows),
                     "lead": lead, "desk": desk, "base": "care/desk_base.html" if desk else "web/base.html"}}


FORM_PAGE = "web/form_page.html"


def form_context(title, submit, *, heading=None, base: str = "web/base.html", nav: str = "", crumbs=(), lead="",
                 form_class: str = "", submit_class: str = "", cancel: str = "", novalidate: bool = False) -> dict:
    """The context of ``FORM_PAGE``, the one template of the pages that show a single form: its title (and a
    heading when it differs), the base template (an app's, for its stylesheet), a navigation to include, the
    breadcrumb (``(url, label)`` pairs above the page), a lead paragraph, the submit button's text and class, and
    a cancel link; ``novalidate`` leaves checking to the server (its errors name the field)."""
    return {"page": {"title": title, "heading": heading or title, "base": base, "nav": nav, "crumbs": list(crumbs),
                     "lead": lead, "form_class": form_class, "submit": submit, "submit_class": submit_class,
                     "cancel": cancel, "novalidate": novalidate}}


def create_page(request, kinds: dict, what: str, create, *, back: str, created: str, **page):
    """A page that creates one of several kinds of record (``kinds``: slug -> (form class, title); an unknown
    slug is a 404): ``create(what, cleaned_data)`` runs the action; then back to the page named ``back`` with
    ``created`` (a text with ``%(name)s``). ``page``: the rest of ``form_context`` (base, nav, form_class)."""
    if what not in kinds:
        raise access.NotFound
    cls, title = kinds[what]

    def act(c):
        return done(request, created % {"name": create(what, c)}, back)

    return form_page(request, cls(request.POST or None), FORM_PAGE,
                     form_context(title, _("Create"), cancel=reverse(back), **page), act=act)


# ---------------------------------------------------------------------------------------------- routes

def route(pattern: str, name: str):
    """Page decorator: the address of the page (a ``django.urls.path`` pattern) and its URL name, declared above
    the capability it needs (``access.require``) so that a page reads in one place. Each app's ``urls.py`` is
    ``routes(views)``. A view may carry several routes."""

    def declare(view):
        view.cordon_routes = [*getattr(view, "cordon_routes", ()), (pattern, name)]
        return view

    return declare


def routes(module) -> list:
    """The URL patterns of the pages ``module`` declares with ``route``, in the order the module defines them
    (a fixed path such as ``bulletins/draft/`` comes before the pattern ``bulletins/<str:day>/`` it would
    otherwise match)."""
    return [path(pattern, view, name=name) for view in vars(module).values()
            if callable(view) and getattr(view, "__module__", None) == module.__name__
            for pattern, name in reversed(getattr(view, "cordon_routes", ()))]
