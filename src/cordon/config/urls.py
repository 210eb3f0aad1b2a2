from django.urls import include, path
from django.views.i18n import set_language

from cordon.core import access
from cordon.config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/setlang/", access.public(set_language), name="set_language"),
    path("", include("cordon.web.urls")),
]
