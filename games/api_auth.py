"""How HTTP callers prove who they are: ``Authorization: Bearer <token>``, or
the session cookie (CSRF-checked, as Django does for cookie-authenticated
writes)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from games.accounts import player_for_token, player_for_user
from games.models import Player


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Player | None:
        return player_for_token(token)


class SessionCookieAuth(APIKeyCookie):
    """Session authentication that checks CSRF only when a live session
    cookie is sent, so a caller with no valid credentials gets 401, not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(self.param_name) or not request.user.is_authenticated:
            return None  # no session, or an expired one: 401, not a CSRF failure
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Player | None:
        return player_for_user(request.user) if key else None


BEARER = BearerTokenAuth()
PLAYER_AUTH = [BEARER, SessionCookieAuth()]


def optional_player(request: HttpRequest) -> Player | None:
    """The caller's player on endpoints anyone may read (spectators included)."""
    return BEARER(request) or player_for_user(request.user)
