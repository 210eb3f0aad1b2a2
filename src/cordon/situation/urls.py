from django.urls import path

from cordon.situation import views

urlpatterns = [
    path("situation/", views.situation, name="situation"),
    path("situation/district/<int:pk>/", views.situation_district, name="situation_district"),
    path("situation/daily/", views.daily_today, name="situation_daily_today"),
    path("situation/daily/<str:day>/", views.daily_page, name="situation_daily"),
    path("situation/counts/", views.counts_list, name="situation_counts"),
    path("situation/counts/<str:name>/", views.counts_detail, name="situation_counts_detail"),
    path("situation/bulletins/", views.bulletin_list, name="situation_bulletins"),
    path("situation/bulletins/draft/", views.bulletin_draft, name="situation_bulletin_draft"),
    path("situation/bulletins/<str:day>/", views.bulletin_detail, name="situation_bulletin"),
    path("public/", views.public_hub, name="public_hub"),
    path("public/bulletins", views.public_bulletins, name="public_bulletins"),
    path("public/bulletins/<str:day>", views.public_bulletin, name="public_bulletin"),
    path("public/lookup", views.public_lookup, name="public_lookup"),
    path("public/lookup.json", views.public_lookup_json, name="public_lookup_json"),
]
