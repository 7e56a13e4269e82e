"""What each client sees: match data and events filtered through the game's
views for one seat, or for a spectator (``viewer=None``)."""

from __future__ import annotations

from typing import Any

from games.rules import get_game
from games.timeline import Event, MatchData, turn


def match_view(data: MatchData, viewer: int | None) -> dict[str, Any]:
    game = get_game(data["game"])
    return {
        "id": data["id"],
        "game": data["game"],
        "status": data["status"],
        "seq": data["seq"],
        "seats": data["seats"],
        "players": data["players"],
        "turn": turn(data),
        "state": game.view(data["state"], viewer),
        "result": data["result"],
    }


def event_view(game_slug: str, event: Event, viewer: int | None) -> dict[str, Any]:
    move = event["move"]
    if event["kind"] == "move" and move is not None:
        move = get_game(game_slug).view_move(move, event["seat"], viewer)
    return {"seq": event["seq"], "kind": event["kind"], "seat": event["seat"], "move": move, "at": event["at"]}


def event_message(event: Event, data: MatchData, viewer: int | None) -> dict[str, Any]:
    """The ``event`` message of the WebSocket protocol, for one recipient."""
    shown = event_view(data["game"], event, viewer)
    return {
        "type": "event",
        "seq": event["seq"],
        "event": {"kind": shown["kind"], "seat": shown["seat"], "move": shown["move"], "at": shown["at"]},
        "match": match_view(data, viewer),
    }


def snapshot_message(data: MatchData, viewer: int | None) -> dict[str, Any]:
    return {"type": "snapshot", "match": match_view(data, viewer)}
