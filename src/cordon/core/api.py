from ninja import NinjaAPI

api = NinjaAPI(title="Cordon API", version="1", urls_namespace="api")
