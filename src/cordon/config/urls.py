"""The root URL conf: the API, the site shell (sign-in, language, audit log) and every app's pages."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from cordon.core import access
from cordon.config.api import api, not_found
from cordon.web import notifications as web_notifications
from cordon.web import uploads as web_uploads
from cordon.web import views as web_views
from cordon.web.pages import routes

urlpatterns = [
    path("api/", api.urls),
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
