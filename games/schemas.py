"""HTTP request and response bodies (django-ninja schemas, i.e. pydantic).

Every input is bounded to what its database column can hold, so a request
is refused with 400 ``bad_request`` rather than failing at the database:
text through :func:`safe_text` (no NUL characters, no unpaired surrogates, a
maximum length), JSON objects through :data:`JsonObject` (the same in every
string in them, and nested at most ``games.inputs.MAX_JSON_DEPTH`` levels,
as over the WebSocket), integers within
PostgreSQL's ``integer`` and dates through :data:`StartTime`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, StringConstraints

from games.engine.match import Status as MatchStatus
from games.inputs import check_json, check_text

INT_MAX = 2**31 - 1  # PostgreSQL's integer: every seq, count and amount column
SMALLINT_MAX = 2**15 - 1  # PostgreSQL's smallint: seat numbers and counts
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset of any real time zone (PostgreSQL stores up to 15:59)
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)
GAME_SLUG_LENGTH = 32  # Match.game


def _storable_text(value: str) -> str:
    return check_text(value, "the text")


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    return check_json(value, "the object")


def safe_text(*, max_length: int, min_length: int = 0, strip: bool = False, pattern: str | None = None) -> Any:
    """A string type for every text input: a JSON string (never a number),
    at most ``max_length`` characters, with no NUL or unpaired surrogate,
    which PostgreSQL cannot store or compare."""
    constraints = StringConstraints(
        strip_whitespace=strip, min_length=min_length, max_length=max_length, pattern=pattern
    )
    return Annotated[StrictStr, constraints, AfterValidator(_storable_text)]


def _start_time(value: datetime) -> datetime:
    """A start date in UTC: no offset means UTC; an offset wider than any
    time zone's, or a date outside the years 2000 to 2099, is refused."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    offset = value.utcoffset()
    if offset is None or abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("the UTC offset must be between -14:00 and +14:00")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None
    if not EARLIEST_START <= value < LATEST_START:
        raise ValueError("the date must be from 2000-01-01 to 2099-12-31 (UTC)")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]
StartTime = Annotated[datetime, AfterValidator(_start_time)]
SeqNumber = Annotated[StrictInt, Field(ge=0, le=INT_MAX)]
GameSlug = safe_text(max_length=GAME_SLUG_LENGTH)
PlayerName = safe_text(strip=True, min_length=1, max_length=40)  # Player.name


class StrictInput(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorDetailOut(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    """Every refusal: the code is from the README's error table."""

    error: ErrorDetailOut


class CreatePlayerIn(StrictInput):
    name: PlayerName
    is_bot: StrictBool = False  # an external program's account (``Player.is_bot``)


class PlayerOut(Schema):
    id: int
    name: str
    token: str


class GameOut(Schema):
    """A game as ``Game.describe`` says it, plus where its board script is served."""

    slug: str
    name: str
    min_players: int
    max_players: int
    allows_draw_offers: bool
    hidden_information: bool
    move_schema: dict[str, Any] = Field(description="JSON Schema of a move")
    options_schema: dict[str, Any] = Field(description="JSON Schema of the game's own match options")
    board_script: str | None = Field(description="the board script's static path; null: the generic board")
    board_url: str | None = Field(description="the board script's URL (an ES module); null: the generic board")
    tick_ms: int | None = Field(description="milliseconds between ticks of a game that advances with time, else null")


class GamesOut(Schema):
    games: list[GameOut]


class CreateMatchIn(StrictInput):
    game: GameSlug
    options: JsonObject = Field(default_factory=dict)
    seats: Annotated[StrictInt, Field(ge=0, le=SMALLINT_MAX)] | None = None


class MoveIn(StrictInput):
    move: JsonObject
    seq: SeqNumber | None = None


class EventsAfterIn(Schema):
    after: int = Field(0, ge=0, le=INT_MAX)


class SeatOut(Schema):
    seat: int
    id: int
    name: str
    connected: bool


class ResultOut(BaseModel):
    """The rules' result, plus what other apps added when the match ended
    (``ratings``: see ``games.signals.match_ending``), passed through as is
    (a plain pydantic model: ninja's ``Schema`` drops undeclared keys)."""

    model_config = ConfigDict(extra="allow")

    winner: int | None
    reason: str


class MatchListIn(Schema):
    status: MatchStatus = MatchStatus.WAITING
    game: GameSlug | None = None


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


class MatchesOut(Schema):
    matches: list[MatchOut]
