"""The root URL conf: the API, the site shell (sign-in, language, audit log) and every app's pages."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.urls.resolvers import ResolverMatch, RoutePattern
from django.utils.functional import cached_property
from django.views.i18n import set_language

from cordon.core import access
from cordon.config.api import api, not_found
from cordon.web import notifications as web_notifications
from cordon.web import uploads as web_uploads
from cordon.web import views as web_views
from cordon.web.pages import routes


class _ApiResolver(URLResolver):
    """The API's routes, tried only among those whose first segment is the path's: Django tries a resolver's
    routes one after the other, and ``/api/passes/check`` (a checkpoint's scanner, every second) came after some
    130 others. The answer is the one the full walk gives (the same match, the same ``tried`` list: every route
    before it); a path no route of its segment serves takes the full walk (the same 404). Any route whose first
    segment is not plain text (a converter) turns the index off."""

    @cached_property
    def _index(self) -> dict[str, list[int]] | None:
        index: dict[str, list[int]] = {}
        for i, p in enumerate(self.url_patterns):
            first = str(p.pattern).split("/", 1)[0]
            if not isinstance(p, URLPattern) or not isinstance(p.pattern, RoutePattern) or "<" in first:
                return None
            index.setdefault(first, []).append(i)
        return index

    def resolve(self, path):
        path = str(path)
        index = self._index
        match = self.pattern.match(path) if index is not None else None
        if match:
            new_path, args, kwargs = match
            patterns = self.url_patterns
            for i in index.get(new_path.split("/", 1)[0], ()):
                sub = patterns[i].resolve(new_path)
                if sub:  # as URLResolver.resolve builds it for a URLPattern's match
                    merged = {**kwargs, **self.default_kwargs, **sub.kwargs}
                    return ResolverMatch(
                        sub.func, sub.args if merged else args + sub.args, merged, sub.url_name,
                        [self.app_name, *sub.app_names], [self.namespace, *sub.namespaces],
                        self._join_route("", sub.route), [[p] for p in patterns[:i + 1]],
                        captured_kwargs=sub.captured_kwargs,
                        extra_kwargs={**self.default_kwargs, **sub.extra_kwargs})
        return super().resolve(path)


_api_patterns, _api_app, _api_namespace = api.urls
urlpatterns = [
    _ApiResolver(RoutePattern("api/", is_endpoint=False), _api_patterns, app_name=_api_app,
                 namespace=_api_namespace),
    # (a browser asks for it on a page with no icon of its own, such as a JSON answer)
    path("favicon.ico", web_views.favicon, name="favicon"),
    path("i18n/setlang/", access.public(set_language), name="set_language"),
    path("login/", access.public(auth_views.LoginView.as_view(
        template_name="web/login.html", redirect_authenticated_user=True,
        extra_context={"failure_limit": getattr(settings, "AXES_FAILURE_LIMIT", 5)})), name="login"),
    path("logout/", access.public(auth_views.LogoutView.as_view()), name="logout"),
    path("audit/", web_views.audit_list, name="audit_list"),
    path("", include(routes(web_uploads))),
    path("audit/export/", web_views.audit_export, name="audit_export"),
    path("account/tokens/", web_views.account_tokens, name="account_tokens"),
    path("account/tokens/<int:pk>/revoke/", web_views.account_token_revoke, name="account_token_revoke"),
    path("settings/pack/", web_views.settings_pack, name="settings_pack"),
    path("", include("cordon.places.urls")),
    path("", include("cordon.playbooks.urls")),
    path("", include("cordon.zones.urls")),
    path("", include("cordon.cases.urls")),
    path("", include("cordon.screening.urls")),
    path("", include("cordon.care.urls")),
    path("", include("cordon.hotline.urls")),
    path("", include("cordon.supplies.urls")),
    path("", include("cordon.keyworkers.urls")),
    path("", include("cordon.passes.urls")),
    path("", include("cordon.keyplaces.urls")),
    path("", include("cordon.resources.urls")),
    path("", include("cordon.situation.urls")),
    path("", include("cordon.command.urls")),
    path("", include("cordon.maps.urls")),
    path("", include("cordon.phone.urls")),
    path("", include(routes(web_notifications))),
]


def handler404(request, exception=None):
    """A path nobody serves: under /api/ the API's own JSON answer (what a client parses), elsewhere the page."""
    if request.path.startswith("/api/"):
        return not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
