"""The tournament API's request and response bodies, bounded like the rest
of the API's (see ``games.schemas``)."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StrictInt

from games.schemas import GameSlug, JsonObject, StartTime, StrictInput, safe_text

MAX_ENTRY_FEE = 99_999_999  # in minor units: the most a payment gateway takes in one payment (Stripe's limit)
MAX_CAPACITY = 1024

TournamentName = safe_text(strip=True, min_length=1, max_length=100)  # Tournament.name
Currency = safe_text(max_length=3, pattern=r"^[A-Za-z]{3}$")  # an ISO 4217 code


class CreateTournamentIn(StrictInput):
    name: TournamentName
    game: GameSlug
    options: JsonObject = Field(default_factory=dict)
    entry_fee: Annotated[StrictInt, Field(ge=0, le=MAX_ENTRY_FEE)] = 0
    currency: Currency = "eur"
    capacity: Annotated[StrictInt, Field(ge=2, le=MAX_CAPACITY)]
    starts_at: StartTime | None = None


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


class MyEntryOut(Schema):
    id: int
    status: str
    payment: PaymentOut | None


class TournamentForCallerOut(TournamentOut):
    my_entry: MyEntryOut | None
