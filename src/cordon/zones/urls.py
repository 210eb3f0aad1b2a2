from django.urls import path

from cordon.zones import views

urlpatterns = [
    path("zones/", views.zone_list, name="zones_list"),
    path("zones/new/", views.zone_new, name="zones_new"),
    path("zones/<int:pk>/", views.zone_detail, name="zones_detail"),
    path("zones/<int:pk>/<slug:action>/", views.zone_action, name="zones_action"),
    path("zones/proposals/<int:pk>/confirm/", views.proposal_confirm, name="zones_proposal_confirm"),
    path("zones/proposals/<int:pk>/dismiss/", views.proposal_dismiss, name="zones_proposal_dismiss"),
    path("zones/notices/publish/", views.notice_publish, name="zones_publish"),
    path("public/risk-areas", views.public_risk_areas, name="public_risk_areas"),
    path("public/risk-areas.json", views.public_risk_areas_json, name="public_risk_areas_json"),
]
