"""What each viewer may see of a match: the match and its events filtered
through the game's views for one seat, or for a spectator (``viewer=None``).
Shared by every transport (the socket frames, the HTTP API, the lobby)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from games.engine import get_game
from games.engine.clocks import format_time, next_deadline, remaining_ms
from games.engine.match import Event, EventKind, MatchData, Presence, turn


def clock_view(data: MatchData, now: datetime) -> dict[str, Any] | None:
    """The clocks as of ``now``, with ``read_at`` so a client can tick them
    locally: a running clock shows ``remaining - (client_now - read_at)``."""
    if data["clock"] is None:
        return None
    return {
        **data["options"]["clock"],
        "remaining": remaining_ms(data, now),
        "running": turn(data) if data["since"] is not None else [],
        "read_at": format_time(now),
    }


def match_view(data: MatchData, presence: Presence, viewer: int | None, now: datetime) -> dict[str, Any]:
    """The ``match`` object of the protocol, as ``viewer`` may see it at ``now``."""
    game = get_game(data["game"])
    deadline = next_deadline(data, presence)
    return {
        "id": data["id"],
        "game": data["game"],
        "status": data["status"],
        "seq": data["seq"],
        "seats": data["seats"],
        "options": data["options"],
        "players": [
            {"seat": p["seat"], "id": p["id"], "name": p["name"], "connected": _connected(presence, p["seat"])}
            for p in data["players"]
        ],
        "turn": turn(data),
        "state": game.view(data["state"], viewer),
        "result": data["result"],
        "clock": clock_view(data, now),
        "deadline": format_time(deadline) if deadline else None,
        "draw_offer": data["draw_offer"],
        "rematch": data["rematch"],
    }


def _connected(presence: Presence, seat: int) -> bool:
    entry = presence.get(seat)
    return entry is not None and entry["connected"]


def event_view(data: MatchData, event: Event, viewer: int | None) -> dict[str, Any]:
    """One logged event as ``viewer`` may see it, given the match ``data`` it
    is shown with (a game may reveal secrets once the match is over)."""
    move = event["move"]
    if event["kind"] == EventKind.MOVE and move is not None:
        move = get_game(data["game"]).view_move(data["state"], move, event["seat"], viewer)
    return {"seq": event["seq"], "kind": event["kind"], "seat": event["seat"], "move": move, "at": event["at"]}
