"""A finished match's replay, as ``GET /api/matches/<id>/replay`` returns it:
every event with the match as it stood right after it.

A finished or aborted match never changes again, so its replay is computed
once per viewer, serialised once, and kept in Django's cache (Redis when
``REDIS_URL`` is set, so once for all processes; per process otherwise),
keyed by the match's last seq and, for a game that hides anything, the
viewer's seat. A later request costs a cache read.
"""

from __future__ import annotations

import json

from django.core.cache import cache

from games import services
from games.engine import get_game
from games.engine.clocks import parse_time
from games.match_views import event_view, match_view
from games.models import Match, Player
from games.records import presence_of, seat_rows

CACHE_SECONDS = 3600


def replay_json(match: Match, player: Player | None) -> bytes:
    """The replay of a match that is over, as ``player`` (or a spectator) may
    see it, as the JSON body of the answer."""
    seats = seat_rows(match.pk)
    viewer = next((seat.seat for seat in seats if player is not None and seat.player_id == player.pk), None)
    # Every viewer sees the same replay unless the game hides something.
    shown_to = viewer if get_game(match.game).hidden_information else "everyone"
    key = f"games:replay:{match.pk}:{match.seq}:{shown_to}"
    cached = cache.get(key)
    if cached is None:
        presence = presence_of(seats)
        steps = {
            "steps": [
                {
                    "event": event_view(data, event, viewer),
                    "match": match_view(data, presence, viewer, parse_time(event["at"])),
                }
                for event, data in services.replay(match, seats)
            ]
        }
        cached = json.dumps(steps, separators=(",", ":")).encode()
        cache.set(key, cached, CACHE_SECONDS)
    return cached
