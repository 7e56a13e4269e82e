"""The lobby: matches waiting for players, pushed to ``/ws/lobby/`` whenever
a match opens, fills or ends, so nobody polls for a game to join."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from games import frames
from games.broadcast import send_to_group
from games.engine.clocks import format_time
from games.match_views import match_view
from games.models import Match
from games.records import match_data, presence_of
from games.signals import match_status_changed

LOBBY_GROUP = "lobby"
LOBBY_SIZE = 100


def list_matches(game: str | None = None, status: str = Match.Status.WAITING) -> list[dict[str, Any]]:
    """Matches in ``status`` (waiting ones by default), newest first, as a spectator sees them."""
    matches = Match.objects.filter(status=status).order_by("-created_at").prefetch_related("seats__player")
    if game:
        matches = matches.filter(game=game)
    now = timezone.now()
    # Two queries in all (matches, then their seats), not one per match: this
    # runs after every match that opens, fills or ends.
    views = []
    for match in matches[:LOBBY_SIZE]:
        seats = list(match.seats.all())
        views.append(match_view(match_data(match, seats), presence_of(seats), None, now))
    return views


# Under daphne's frame limit (the Procfile's --websocket-max-message-size
# applies to what the server sends too), whatever the matches hold.
LOBBY_MAX_BYTES = 48 * 1024


def lobby_message() -> dict[str, Any]:
    """The channel-layer message for every lobby socket: the ``lobby`` text,
    serialised once here, newest matches first, as many as fit in
    ``LOBBY_MAX_BYTES``."""
    matches, at = list_matches(), format_time(timezone.now())
    text = frames.dumps(frames.lobby(matches, at))
    while len(text.encode()) > LOBBY_MAX_BYTES and matches:
        matches = matches[: len(matches) * 3 // 4]
        text = frames.dumps(frames.lobby(matches, at))
    return {"type": "lobby.changed", "text": text, "at": at}


@receiver(match_status_changed)
def on_match_status_changed(sender: Any, match: Match, **kwargs: Any) -> None:
    transaction.on_commit(lambda: send_to_group(LOBBY_GROUP, lobby_message()), robust=True)
