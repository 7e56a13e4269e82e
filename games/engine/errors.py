"""Every error code of the protocol, defined once, and the refusal that carries one.

The README's error table lists exactly these codes (a test checks it); the
HTTP API answers each with its ``http_status``, the WebSocket sends it in an
``error`` frame.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    BAD_MESSAGE = "bad_message"
    UNKNOWN_GAME = "unknown_game"
    INVALID_OPTIONS = "invalid_options"
    NOT_AUTHENTICATED = "not_authenticated"
    CSRF_FAILED = "csrf_failed"
    NOT_A_PLAYER = "not_a_player"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    INTERNAL_ERROR = "internal_error"
    SERVER_ERROR = "server_error"
    REGISTRATION_CLOSED = "registration_closed"
    ALREADY_ENTERED = "already_entered"
    TOURNAMENT_FULL = "tournament_full"
    MATCH_FULL = "match_full"
    MATCH_NOT_ACTIVE = "match_not_active"
    NOT_YOUR_TURN = "not_your_turn"
    STALE_SEQ = "stale_seq"
    DRAW_NOT_ALLOWED = "draw_not_allowed"
    NO_DRAW_OFFER = "no_draw_offer"
    REMATCH_REQUESTED = "rematch_requested"
    ILLEGAL_MOVE = "illegal_move"
    TOO_MANY_OPEN_MATCHES = "too_many_open_matches"
    RATE_LIMITED = "rate_limited"
    REFUSED_URL = "refused_url"

    @property
    def http_status(self) -> int:
        """The HTTP status the API answers this code with (400 for codes
        only a socket sends)."""
        return HTTP_STATUS.get(self, 400)


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNKNOWN_GAME: 400,
    ErrorCode.INVALID_OPTIONS: 400,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.NOT_A_PLAYER: 403,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.REGISTRATION_CLOSED: 409,
    ErrorCode.ALREADY_ENTERED: 409,
    ErrorCode.TOURNAMENT_FULL: 409,
    ErrorCode.MATCH_FULL: 409,
    ErrorCode.MATCH_NOT_ACTIVE: 409,
    ErrorCode.NOT_YOUR_TURN: 409,
    ErrorCode.STALE_SEQ: 409,
    ErrorCode.DRAW_NOT_ALLOWED: 409,
    ErrorCode.NO_DRAW_OFFER: 409,
    ErrorCode.REMATCH_REQUESTED: 409,
    ErrorCode.ILLEGAL_MOVE: 422,
    ErrorCode.TOO_MANY_OPEN_MATCHES: 429,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.REFUSED_URL: 400,
}


class GameError(Exception):
    """A refused request: the protocol's error ``code`` and a message for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
