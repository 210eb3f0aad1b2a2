"""``PublicLookupMiddleware``: ``GET /public/lookup.json`` (and the public paths of ``hooks.PUBLIC_FAST``: the
public risk-area GeoJSON) answered right after WhiteNoise.

The public address lookup is the one dynamic page a whole city may hit at once. Its view needs nothing the
middleware below it provides (no session, user, CSRF token or messages), so for a cookie-less ``GET`` this
middleware answers it directly, with the same body (``public.json_answer``, which resolves from the
in-memory address index and the designation snapshot: no query) and the same headers the full stack would
give it: what the view sets (JSON, ``Access-Control-Allow-Origin: *``, ``Cache-Control: public, max-age=60``)
and what ``CommonMiddleware`` (host check, ``Content-Length``), ``LocaleMiddleware`` (language from
``Accept-Language``, ``Vary``, ``Content-Language``), ``XFrameOptionsMiddleware`` and
``ContentSecurityPolicyMiddleware`` add; ``SecurityMiddleware`` sits above and adds its headers to both.

Everything else passes through untouched, and so does the lookup itself when the request carries cookies
(a session or CSRF cookie can make the stack below answer differently), when language-prefixed URLs are in
use, when ``PREPEND_WWW`` or ``DISALLOWED_USER_AGENTS`` are set, or when a middleware this one does not know
sits below it.
"""
from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.csp import CSP, build_policy

from cordon.situation import hooks

PATH = "/public/lookup.json"
_NEUTRAL = {  # middleware below this one that add nothing to a cookie-less GET of the lookup, or whose part is done here
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
}


class PublicLookupMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        mw = list(settings.MIDDLEWARE)
        me = f"{__name__}.{type(self).__name__}"
        below = mw[mw.index(me) + 1:] if me in mw else mw
        self.enabled = set(below) <= _NEUTRAL and not settings.PREPEND_WWW and not settings.DISALLOWED_USER_AGENTS
        self.common = "django.middleware.common.CommonMiddleware" in below
        self.locale = "django.middleware.locale.LocaleMiddleware" in below
        self.xframe = "django.middleware.clickjacking.XFrameOptionsMiddleware" in below
        self.csp = "django.middleware.csp.ContentSecurityPolicyMiddleware" in below
        self._fixed = None
        setting_changed.connect(self._forget, weak=True)

    def __call__(self, request):
        if (not self.enabled or request.method != "GET" or request.META.get("HTTP_COOKIE")
                or (request.path_info != PATH and request.path_info not in hooks.PUBLIC_FAST)):
            return self.get_response(request)
        if self.locale:
            i18n_patterns_used, _prefixed = is_language_prefix_patterns_used(
                getattr(request, "urlconf", settings.ROOT_URLCONF))
            if i18n_patterns_used:
                return self.get_response(request)
        if self.common:
            request.get_host()  # DisallowedHost -> 400, as CommonMiddleware would
        if self.locale:
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
        return self.answer(request)

    def answer(self, request):
        fast = hooks.PUBLIC_FAST.get(request.path_info)
        if fast is not None:
            body, content_type = fast(request.GET.get("q"))
        else:
            from cordon.situation import public

            body, content_type = public.json_answer(request.GET.get("q")), "application/json"
        response = HttpResponse(body, content_type=content_type)
        headers = response.headers
        for name, value in self.fixed_headers():
            headers[name] = value
        if self.common:
            headers["Content-Length"] = str(len(body))
        if self.locale:
            headers["Vary"] = "Accept-Language"
            headers["Content-Language"] = translation.get_language()
        return response

    def fixed_headers(self) -> list:
        """The headers that do not depend on the request (computed once; again after a settings change)."""
        if self._fixed is None:
            from cordon.situation.views import PUBLIC_CACHE

            r = HttpResponse()
            r["Access-Control-Allow-Origin"] = "*"
            patch_cache_control(r, **PUBLIC_CACHE)
            if self.csp:
                for header, config in ((CSP.HEADER_ENFORCE, settings.SECURE_CSP),
                                       (CSP.HEADER_REPORT_ONLY, settings.SECURE_CSP_REPORT_ONLY)):
                    if config:
                        r.headers[str(header)] = build_policy(config)
            if self.xframe:
                r.headers["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
            self._fixed = [(k, v) for k, v in r.items() if k != "Content-Type"]
        return self._fixed

    def _forget(self, **_kwargs) -> None:
        self._fixed = None
