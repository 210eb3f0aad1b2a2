from django.urls import path

from cordon.hotline import views

urlpatterns = [
    path("hotline/", views.ticket_list, name="hotline_list"),
    path("hotline/new/", views.ticket_new, name="hotline_new"),
    path("hotline/tickets/<int:pk>/", views.ticket_detail, name="hotline_ticket"),
    path("hotline/tickets/<int:pk>/<slug:action>/", views.ticket_action, name="hotline_ticket_action"),
    path("hotline/roster/", views.roster, name="hotline_roster"),
    path("hotline/roster/<int:pk>/remove/", views.shift_remove, name="hotline_shift_remove"),
    path("public/hotline", views.public_form, name="public_hotline"),
    path("public/hotline/status", views.public_status, name="public_hotline_status"),
]
