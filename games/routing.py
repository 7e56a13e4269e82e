from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.conf import settings
from django.urls import path

from games.consumers import LobbyConsumer, MatchConsumer, TournamentConsumer
from games.ws_auth import BrowserOriginValidator, TicketAuthMiddleware

websocket_urlpatterns = [
    path("ws/matches/<int:match_id>/", MatchConsumer.as_asgi()),
    path("ws/tournaments/<int:tournament_id>/", TournamentConsumer.as_asgi()),
    path("ws/lobby/", LobbyConsumer.as_asgi()),
]

websocket_application = BrowserOriginValidator(
    AuthMiddlewareStack(TicketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    settings.WEBSOCKET_ALLOWED_ORIGINS,
)
