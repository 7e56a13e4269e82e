"""What each client sees: match data and events filtered through the game's
views for one seat, or for a spectator (``viewer=None``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from games.rules import get_game
from games.timeline import Event, MatchData, format_time, next_deadline, remaining_ms, turn


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


def match_view(data: MatchData, viewer: int | None, now: datetime) -> dict[str, Any]:
    game = get_game(data["game"])
    deadline = next_deadline(data)
    return {
        "id": data["id"],
        "game": data["game"],
        "status": data["status"],
        "seq": data["seq"],
        "seats": data["seats"],
        "options": data["options"],
        "players": [
            {"seat": p["seat"], "id": p["id"], "name": p["name"], "connected": p["connected"]} for p in data["players"]
        ],
        "turn": turn(data),
        "state": game.view(data["state"], viewer),
        "result": data["result"],
        "clock": clock_view(data, now),
        "deadline": format_time(deadline) if deadline else None,
        "draw_offer": data["draw_offer"],
        "rematch": data["rematch"],
    }


def event_view(data: MatchData, event: Event, viewer: int | None) -> dict[str, Any]:
    """One logged event as ``viewer`` may see it, given the match ``data`` it
    is shown with (a game may reveal secrets once the match is over)."""
    move = event["move"]
    if event["kind"] == "move" and move is not None:
        move = get_game(data["game"]).view_move(data["state"], move, event["seat"], viewer)
    return {"seq": event["seq"], "kind": event["kind"], "seat": event["seat"], "move": move, "at": event["at"]}


def event_message(event: Event, data: MatchData, viewer: int | None) -> dict[str, Any]:
    """The ``event`` message of the WebSocket protocol, for one recipient,
    with the match as it stood right after the event."""
    shown = event_view(data, event, viewer)
    return {
        "type": "event",
        "seq": event["seq"],
        "event": {"kind": shown["kind"], "seat": shown["seat"], "move": shown["move"], "at": shown["at"]},
        "match": match_view(data, viewer, datetime.fromisoformat(event["at"])),
    }


def snapshot_message(data: MatchData, viewer: int | None, now: datetime) -> dict[str, Any]:
    return {"type": "snapshot", "match": match_view(data, viewer, now)}
