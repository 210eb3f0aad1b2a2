from cordon.playbooks import views
from cordon.web.pages import routes

urlpatterns = routes(views)
