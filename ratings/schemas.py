"""The ratings API's request and response bodies (see ``games.schemas`` for
the house rules on inputs)."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StrictStr, StringConstraints

from ratings.leaderboards import DEFAULT_LIMIT, MAX_LIMIT

MAX_PLAYERS = 64  # players in one GET /api/ratings
# The patterns admit no NUL nor surrogate, which safe_text would refuse too.
PoolName = Annotated[StrictStr, StringConstraints(max_length=48, pattern=r"^[a-z0-9_.-]+$")]  # Rating.pool
PlayerIds = Annotated[
    StrictStr, StringConstraints(max_length=MAX_PLAYERS * 11, pattern=r"^[0-9]{1,10}(,[0-9]{1,10})*$")
]


class LeaderboardIn(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class RatingsIn(Schema):
    pool: PoolName | None = Field(None, description="a pool, with players")
    players: PlayerIds | None = Field(None, description="player ids, comma-separated")
    match: int | None = Field(None, ge=1, description="a match: its pool and its players")


class BoardOut(Schema):
    pool: str
    game: str
    speed: str | None
    players: int = Field(description="players on the leaderboard (not provisional)")
    rated: int = Field(description="players with a rating in the pool, provisional ones included")


class BoardsOut(Schema):
    leaderboards: list[BoardOut]


class RowOut(Schema):
    rank: int
    id: int
    name: str
    bot: bool
    rating: float
    deviation: float
    games: int


class AroundOut(RowOut):
    above: list[RowOut]
    below: list[RowOut]


class LeaderboardOut(Schema):
    pool: str
    game: str
    speed: str | None
    players: list[RowOut]
    me: AroundOut | None = Field(description="the caller's rank and neighbours; null if unrated or provisional")


class PlayerRatingOut(Schema):
    pool: str
    game: str
    speed: str | None
    rating: float
    deviation: float
    provisional: bool
    rank: int | None
    games: int
    wins: int
    draws: int
    losses: int


class RatingChangeOut(Schema):
    match: int
    pool: str
    at: str
    score: float
    before: float
    after: float
    change: float
    deviation: float


class OpponentOut(Schema):
    seat: int
    id: int
    name: str
    bot: bool


class PlayerMatchOut(Schema):
    id: int
    game: str
    status: str
    rated: bool
    seat: int | None
    result: dict[str, Any] | None
    opponents: list[OpponentOut]
    at: str


class ProfileOut(Schema):
    id: int
    name: str
    bot: bool
    ratings: list[PlayerRatingOut]
    history: list[RatingChangeOut]
    matches: list[PlayerMatchOut]


class RatingOut(Schema):
    player: int
    rating: float
    deviation: float
    games: int
    provisional: bool


class RatingsOut(Schema):
    pool: str
    rated: bool | None = Field(description="for ?match=: whether the match is rated; else null")
    ratings: list[RatingOut]
