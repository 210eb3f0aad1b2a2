from cordon.maps import views
from cordon.web.pages import routes

urlpatterns = routes(views)
