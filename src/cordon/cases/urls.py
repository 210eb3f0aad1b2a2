from cordon.cases import views, views_orders
from cordon.web.pages import routes

urlpatterns = routes(views) + routes(views_orders)
