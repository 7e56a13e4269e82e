"""WebSocket routes. A path that matches none of them is refused at the
handshake (HTTP 403 from the server), like any other refused socket, instead
of Channels' URLRouter raising "No route found" as a server error."""

from __future__ import annotations

import logging
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.conf import settings
from django.urls import path, re_path

from games.consumers import LobbyConsumer, MatchConsumer
from games.ws_auth import BrowserOriginValidator, TicketAuthMiddleware

logger = logging.getLogger(__name__)


async def refuse_unknown_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Close before accepting: the server answers the handshake with 403."""
    message = await receive()
    if message["type"] == "websocket.connect":
        logger.info("refused a WebSocket for %s: no such route", scope.get("path"))
        await send({"type": "websocket.close"})


websocket_urlpatterns = [
    path("ws/matches/<int:match_id>/", MatchConsumer.as_asgi()),
    path("ws/lobby/", LobbyConsumer.as_asgi()),
]


def socket_application(*route_lists: list[Any]) -> Any:
    """The WebSocket side of the site (``gameproject/asgi.py`` passes every
    app's ``websocket_urlpatterns``): the origin check, session and ticket
    authentication, then the first route that matches; any other path is
    refused."""
    routes = [route for routes in route_lists for route in routes]
    return BrowserOriginValidator(
        AuthMiddlewareStack(TicketAuthMiddleware(URLRouter([*routes, re_path(r"", refuse_unknown_path)]))),
        settings.WEBSOCKET_ALLOWED_ORIGINS,
    )
