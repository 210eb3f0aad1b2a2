from django.urls import path

from cordon.cases import views

urlpatterns = [
    path("cases/", views.infection_list, name="cases_infections"),
    path("cases/infections/<int:pk>/", views.infection_detail, name="cases_infection"),
    path("cases/infections/<int:pk>/<slug:action>/", views.infection_action, name="cases_infection_action"),
    path("cases/tasks/<int:pk>/<slug:action>/", views.task_action, name="cases_task_action"),
    path("cases/contacts/", views.contact_list, name="cases_contacts"),
    path("cases/orders/<int:pk>/checkin/", views.order_checkin, name="cases_checkin"),
    path("cases/facilities/", views.facility_list, name="cases_facilities"),
    path("cases/facilities/new/", views.facility_create, name="cases_facility_new"),
    path("cases/facilities/<int:pk>/", views.facility_detail, name="cases_facility"),
    path("cases/facilities/<int:pk>/admit/", views.facility_admit, name="cases_facility_admit"),
    path("cases/placements/<int:pk>/discharge/", views.placement_discharge, name="cases_discharge"),
    path("cases/arrivals/", views.arrival_list, name="cases_arrivals"),
    path("cases/arrivals/new/", views.arrival_create, name="cases_arrival_new"),
    path("cases/arrivals/<int:pk>/test/", views.arrival_test, name="cases_arrival_test"),
    path("cases/regions/", views.region_upsert, name="cases_region_upsert"),
]
