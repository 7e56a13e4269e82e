"""Bodies of the bots' endpoints."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictInt

from games.schemas import SMALLINT_MAX, GameSlug, JsonObject, StrictInput


class BotMatchIn(StrictInput):
    game: GameSlug
    level: Annotated[StrictInt, Field(ge=0, le=SMALLINT_MAX)]
    options: JsonObject = Field(default_factory=dict)
    seat: Annotated[StrictInt, Field(ge=0, le=SMALLINT_MAX)] | None = Field(
        None, description="your seat (0 moves first in every game shipped); null: 0"
    )


class BotPlayerOut(Schema):
    id: int
    name: str


class BotLevelOut(Schema):
    level: int
    name: str
    description: str
    strategy: str = Field(description="random or search")
    seconds_per_move: float = Field(description="the longest the bot thinks about one move")
    player: BotPlayerOut


class BotsOut(Schema):
    levels: list[BotLevelOut]
