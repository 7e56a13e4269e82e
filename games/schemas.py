"""HTTP request and response bodies (django-ninja schemas, i.e. pydantic)."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict, StrictInt, StrictStr, StringConstraints

SeqNumber = Annotated[StrictInt, Field(ge=0)]


class StrictInput(Schema):
    model_config = ConfigDict(extra="forbid")


class CreatePlayerIn(StrictInput):
    name: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class PlayerOut(Schema):
    id: int
    name: str
    token: str


class GameOut(Schema):
    slug: str
    name: str
    min_players: int
    max_players: int


class GamesOut(Schema):
    games: list[GameOut]


class CreateMatchIn(StrictInput):
    game: StrictStr
    options: dict[str, Any] = Field(default_factory=dict)
    seats: StrictInt | None = None


class MoveIn(StrictInput):
    move: dict[str, Any]
    seq: SeqNumber | None = None


class EventsAfterIn(Schema):
    after: int = Field(0, ge=0)


class SeatOut(Schema):
    seat: int
    id: int
    name: str
    connected: bool


class ResultOut(Schema):
    winner: int | None
    reason: str


class ClockOut(Schema):
    initial: int
    increment: int
    remaining: list[int]
    running: list[int]
    read_at: str


class RematchOut(Schema):
    seats: list[int]
    match: int | None


class MatchOut(Schema):
    id: int
    game: str
    status: str
    seq: int
    seats: int
    options: dict[str, Any]
    players: list[SeatOut]
    turn: list[int]
    state: dict[str, Any]
    result: ResultOut | None
    clock: ClockOut | None
    deadline: str | None
    draw_offer: int | None
    rematch: RematchOut


class EventOut(Schema):
    seq: int
    kind: str
    seat: int | None
    move: dict[str, Any] | None
    at: str


class EventsOut(Schema):
    seq: int
    events: list[EventOut]


class TicketOut(Schema):
    ticket: str
    expires_in: int
