from django.urls import path

from cordon.places import views

urlpatterns = [
    path("", views.home, name="home"),
    path("areas/", views.area_list, name="area_list"),
    path("areas/<int:pk>/", views.area_detail, name="area_detail"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
]
