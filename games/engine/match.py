"""The match as data: its statuses, event kinds and typed structures.

A :class:`MatchData` is the server-side, unfiltered match, exactly what the
fold (``games.engine.fold``) produces and ``games.records`` stores. Live
presence (who has a socket open) is not part of it: it changes without
events, so it is a separate :data:`Presence` passed to what needs it
(abandonment deadlines, the views).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

from games.engine.game import ResultData
from games.engine.registry import get_game


class Status(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    FINISHED = "finished"
    ABORTED = "aborted"

    @property
    def over(self) -> bool:
        return self in (Status.FINISHED, Status.ABORTED)


class EventKind(StrEnum):
    JOIN = "join"
    MOVE = "move"
    RESIGN = "resign"
    OFFER_DRAW = "offer_draw"
    ACCEPT_DRAW = "accept_draw"
    REMATCH = "rematch"
    TIMEOUT = "timeout"
    ABANDON = "abandon"
    ABORT = "abort"
    # A real-time match's tick that had inputs (or ended it): ``move`` is
    # ``{"tick": n, "inputs": [[seat, input], ...]}``; the ticks before it
    # since the last one logged had none (see games.engine.realtime).
    TICKS = "ticks"


#: The kinds a player may send; the others come from the server.
PLAYER_ACTIONS = frozenset(
    {EventKind.MOVE, EventKind.RESIGN, EventKind.OFFER_DRAW, EventKind.ACCEPT_DRAW, EventKind.REMATCH}
)


class Event(TypedDict):
    """One logged event; ``at`` is the server's ISO timestamp (``...Z``)."""

    seq: int
    kind: str
    seat: int | None
    move: Any
    at: str


class PlayerEntry(TypedDict):
    seat: int
    id: int
    name: str


class SeatPresence(TypedDict):
    connected: bool
    left_at: str | None  # when the seat's last socket closed


#: Live presence by seat; a seat missing from it has never had a socket.
Presence = dict[int, SeatPresence]


class ClockData(TypedDict):
    remaining: list[int]  # milliseconds per seat, as of ``since``


class RematchData(TypedDict):
    seats: list[int]
    match: int | None


class MatchData(TypedDict):
    id: int
    game: str
    status: str
    seq: int
    seats: int  # the number of seats
    options: dict[str, Any]
    players: list[PlayerEntry]
    state: dict[str, Any]
    result: ResultData | None
    clock: ClockData | None
    since: str | None  # when the running clocks were last charged
    turn_started: list[str | None]  # per seat, when its current turn began
    draw_offer: int | None
    rematch: RematchData


#: The fields the fold keeps besides the game state (``Match.engine_state``).
ENGINE_FIELDS = ("clock", "since", "turn_started", "draw_offer", "rematch")


def turn(data: MatchData) -> list[int]:
    """The seats that may move now (none unless the match is active)."""
    if data["status"] != Status.ACTIVE:
        return []
    return get_game(data["game"]).turn(data["state"])


def seat_of(data: MatchData, player_id: int | None) -> int | None:
    """The seat ``player_id`` holds in the match, if any."""
    for player in data["players"]:
        if player["id"] == player_id:
            return player["seat"]
    return None
