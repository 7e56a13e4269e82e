"""HTTP request and response bodies (django-ninja schemas, i.e. pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

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


class MatchListIn(Schema):
    status: Literal["waiting", "active", "finished", "aborted"] = "waiting"
    game: str | None = None


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


class ReplayStepOut(Schema):
    event: EventOut
    match: MatchOut


class ReplayOut(Schema):
    steps: list[ReplayStepOut]


class EventsOut(Schema):
    seq: int
    events: list[EventOut]


class TicketOut(Schema):
    ticket: str
    expires_in: int


class CreateTournamentIn(StrictInput):
    name: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    game: StrictStr
    options: dict[str, Any] = Field(default_factory=dict)
    entry_fee: Annotated[StrictInt, Field(ge=0)] = 0
    currency: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z]{3}$")] = "eur"
    capacity: Annotated[StrictInt, Field(ge=2, le=1024)]
    starts_at: datetime | None = None


class TournamentPlayerOut(Schema):
    id: int
    name: str


class TournamentEntryOut(Schema):
    id: int
    player: TournamentPlayerOut
    status: str


class BracketMatchOut(Schema):
    slot: int
    players: list[TournamentPlayerOut | None]
    match: int | None
    status: str
    winner: TournamentPlayerOut | None
    games: list[int]


class BracketRoundOut(Schema):
    round: int
    matches: list[BracketMatchOut]


class TournamentOut(Schema):
    id: int
    name: str
    game: str
    options: dict[str, Any]
    entry_fee: int
    currency: str
    capacity: int
    starts_at: str | None
    status: str
    seq: int
    confirmed: int
    entries: list[TournamentEntryOut]
    bracket: list[BracketRoundOut]
    winner: TournamentPlayerOut | None


class TournamentsOut(Schema):
    tournaments: list[TournamentOut]


class EntryStatusOut(Schema):
    id: int
    status: str


class PaymentOut(Schema):
    provider: str
    client_reference_id: str
    amount: int
    currency: str


class EntryCreatedOut(Schema):
    entry: EntryStatusOut
    payment: PaymentOut | None


class MatchesOut(Schema):
    matches: list[MatchOut]
