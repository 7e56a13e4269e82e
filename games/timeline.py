"""A match as a fold over its event log. Pure Python, no Django.

``advance`` is the only place that turns "match before" plus "one event" into
"match after". The live move path calls it once per accepted event and the
replay folds it over the whole log, so the stored match always equals the
replay of its log by construction (and ``tests`` check that it does).

A *match data* dict is the server-side, unfiltered match::

    {"id", "game", "status", "seq", "seats", "players": [{"seat", "id", "name", "connected"}],
     "state", "result"}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from games.rules import get_game

WAITING, ACTIVE, FINISHED, ABORTED = "waiting", "active", "finished", "aborted"

MatchData = dict[str, Any]
Event = dict[str, Any]


def initial(match_id: int, game_slug: str, seats: int, options: dict[str, Any]) -> MatchData:
    return {
        "id": match_id,
        "game": game_slug,
        "status": WAITING,
        "seq": 0,
        "seats": seats,
        "players": [],
        "state": get_game(game_slug).initial_state(seats, options),
        "result": None,
    }


def advance(data: MatchData, event: Event, player: dict[str, Any] | None = None) -> MatchData:
    """The match after ``event``; ``player`` is the seated player of a join.

    Raises the rules' ``IllegalMove`` for a move they refuse.
    """
    after = {**data, "seq": event["seq"]}
    kind = event["kind"]
    if kind == "join":
        after["players"] = sorted([*data["players"], player], key=lambda p: p["seat"])
        after["status"] = ACTIVE if len(after["players"]) == data["seats"] else WAITING
    elif kind == "move":
        game = get_game(data["game"])
        after["state"] = game.apply_move(data["state"], event["seat"], event["move"])
        result = game.result(after["state"])
        if result is not None:
            after["status"] = FINISHED
            after["result"] = result.as_dict()
    else:
        raise ValueError(f"unknown event kind {kind!r}")
    return after


def replay(
    initial_data: MatchData, events: Iterable[Event], players_by_seat: dict[int, dict[str, Any]]
) -> Iterator[tuple[Event, MatchData]]:
    """Yield each event with the match as it stood right after it."""
    data = initial_data
    for event in events:
        data = advance(data, event, players_by_seat.get(event["seat"]) if event["kind"] == "join" else None)
        yield event, data


def turn(data: MatchData) -> list[int]:
    if data["status"] != ACTIVE:
        return []
    return get_game(data["game"]).turn(data["state"])


def seat_of(data: MatchData, player_id: int | None) -> int | None:
    for player in data["players"]:
        if player["id"] == player_id:
            return player["seat"]
    return None
