"""WebSocket handshake security: the Origin allow-list and ``?ticket=`` auth."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from games.accounts import redeem_ticket
from games.database_threads import on_database


class BrowserOriginValidator(OriginValidator):
    """Refuse a handshake whose ``Origin`` is not on the allow-list.

    Browsers always send ``Origin``, and only browsers carry a victim's
    cookies to another site, so a handshake without one (a bot, a test
    client) cannot be cross-site WebSocket hijacking and is let through
    (unless ``WEBSOCKET_ALLOW_MISSING_ORIGIN`` is off); it still needs a
    ticket or a session to act as a player.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return settings.WEBSOCKET_ALLOW_MISSING_ORIGIN
        return super().valid_origin(parsed_origin)


def origin_allowed(origin: str) -> bool:
    """Whether a browser page at ``origin`` (``scheme://host[:port]``) may
    open the sockets: the handshake's own check, asked by the pages so they
    can say why instead of reconnecting forever."""
    return BrowserOriginValidator(None, settings.WEBSOCKET_ALLOWED_ORIGINS).valid_origin(urlparse(origin))


class TicketAuthMiddleware(BaseMiddleware):
    """Authenticate by a single-use ``?ticket=`` from ``POST /api/tickets``.

    A ticket that is unknown, expired or already used marks the scope, and
    the consumer closes with 4401 instead of silently treating the client as
    a spectator. ``?anonymous=1`` drops the session cookie's user: every tab
    of a browser sends the same cookie, so a page with no player of its own
    says so, and watches as nobody rather than as whoever logged in last.
    """

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        ticket = query.get("ticket", [""])[0]
        if query.get("anonymous", [""])[0] == "1":
            scope = {**scope, "user": AnonymousUser()}
        if ticket:
            scope = dict(scope)
            player = await on_database(redeem_ticket)(ticket)
            if player is None:
                scope["ticket_rejected"] = True
            else:
                scope["player"] = player
                scope["user"] = player.user
        return await super().__call__(scope, receive, send)
