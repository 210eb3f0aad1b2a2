from django.urls import path

from cordon.supplies import views

urlpatterns = [
    path("supplies/", views.dashboard, name="supplies_dashboard"),
    path("supplies/deliveries/", views.deliveries, name="supplies_deliveries"),
    path("supplies/deliveries/<int:pk>/<slug:action>/", views.delivery_action, name="supplies_delivery_action"),
    path("supplies/allocations/<int:pk>/issue/", views.issue, name="supplies_issue"),
    path("supplies/new/<slug:what>/", views.create, name="supplies_new"),
    path("supplies/do/<slug:action>/", views.post_action, name="supplies_action"),
]
