from cordon.phone import views
from cordon.web.pages import routes

urlpatterns = routes(views)
