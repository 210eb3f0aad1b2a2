from django.urls import path

from cordon.care import views

urlpatterns = [
    path("care/", views.board, name="care_board"),
    path("care/new/", views.new_request, name="care_new"),
    path("care/setup/<slug:what>/", views.new_reference, name="care_new_reference"),
    path("care/requests/<int:pk>/", views.request_detail, name="care_request"),
    path("care/requests/<int:pk>/<slug:action>/", views.request_action, name="care_request_action"),
    path("care/special/", views.special, name="care_special"),
    path("care/special/sync/", views.sync_tasks, name="care_sync"),
    path("care/special/<int:pk>/", views.needs_edit, name="care_needs"),
    path("care/tasks/<int:pk>/done/", views.task_done, name="care_task_done"),
]
