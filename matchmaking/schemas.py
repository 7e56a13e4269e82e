"""HTTP bodies of the queue endpoints (django-ninja schemas), bounded like
the rest of the API's (``games.schemas``)."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictInt

from games.schemas import GameSlug, JsonObject, StrictInput
from matchmaking.services import MAX_BOT_AFTER


class SeekIn(StrictInput):
    game: GameSlug
    options: JsonObject = Field(default_factory=dict)
    bot_after: Annotated[StrictInt, Field(ge=1, le=MAX_BOT_AFTER)] | None = None


class OpponentOut(Schema):
    id: int
    name: str
    rating: float | None
    bot: bool


class SeekOut(Schema):
    id: int
    status: str = Field(description="waiting | paired | withdrawn")
    reason: str | None = Field(description="why it was withdrawn: cancelled | closed | expired")
    game: str
    options: dict
    pool: str
    rating_pool: str
    rating: float
    bot_after: int | None
    created_at: str
    match: int | None
    seat: int | None
    opponent: OpponentOut | None
    waiting: int = Field(description="seeks waiting in the pool now, this one included if it waits")
