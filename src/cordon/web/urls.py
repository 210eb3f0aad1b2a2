from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cordon.core import access
from cordon.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", access.public(auth_views.LoginView.as_view(
        template_name="web/login.html", redirect_authenticated_user=True,
        extra_context={"failure_limit": getattr(settings, "AXES_FAILURE_LIMIT", 5)})), name="login"),
    path("logout/", access.public(auth_views.LogoutView.as_view()), name="logout"),
    path("areas/", views.area_list, name="area_list"),
    path("areas/<int:pk>/", views.area_detail, name="area_detail"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("audit/", views.audit_list, name="audit_list"),
    path("", include("cordon.zones.urls")),
    path("", include("cordon.cases.urls")),
    path("", include("cordon.screening.urls")),
    path("", include("cordon.care.urls")),
    path("", include("cordon.hotline.urls")),
    path("", include("cordon.supplies.urls")),
    path("", include("cordon.situation.urls")),
]
