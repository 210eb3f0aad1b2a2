from django.urls import path

from cordon.screening import views

urlpatterns = [
    path("screening/", views.round_list, name="screening_list"),
    path("screening/new/", views.round_new, name="screening_new"),
    path("screening/<int:pk>/", views.round_detail, name="screening_detail"),
    path("screening/<int:pk>/refresh/", views.round_refresh, name="screening_refresh"),
    path("screening/<int:pk>/missing/<int:area_id>/", views.round_missing, name="screening_missing"),
    path("screening/retest/<int:member_id>/", views.retest, name="screening_retest"),
]
