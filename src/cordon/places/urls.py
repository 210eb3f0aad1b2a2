from cordon.places import views, views_residents
from cordon.web.pages import routes

urlpatterns = routes(views) + routes(views_residents)
