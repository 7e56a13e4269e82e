"""The contract every game implements: plain data and functions, no Django.

A game is a :class:`Game` subclass registered under its ``slug`` (see
``games.engine.registry``). Its state is a JSON-compatible dict; rules never
change the state they are given, :meth:`Game.apply_move` returns a new one or
raises :class:`IllegalMove`. Seats are numbered from 0; ``seat=None`` in a
view means a spectator.

Moves and options are checked before the rules run: the engine's fold
validates a move against the game's ``Move`` model (pydantic) once the match
is active and the seat is in turn, and hands the rules the parsed model, so
rules never hand-parse dicts. The move logged and broadcast is the JSON object
the player sent, unchanged; a replay parses every logged move again, so a
game's ``Move`` model must keep accepting every move it ever accepted.

``docs/writing-a-game.md`` walks through writing one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

State = dict[str, Any]
MoveJson = dict[str, Any]


class IllegalMove(Exception):
    """A move the rules refuse; ``reason`` is shown to the player."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidOptions(ValueError):
    """Match options the game does not accept; the message names the problem."""


class ResultData(TypedDict):
    """A result as stored and sent: ``{"winner": seat | null, "reason"}``.
    Other apps may add keys when the match ends (``ratings``: see
    ``games.signals.match_ending``); the log replays only these two."""

    winner: int | None
    reason: str


RULES_RESULT_KEYS = ("winner", "reason")


def rules_result(result: Any) -> ResultData | None:
    """``result`` without what other apps added to it: what a replay of the log gives."""
    return None if result is None else {key: result[key] for key in RULES_RESULT_KEYS}  # type: ignore[return-value]


@dataclass(frozen=True)
class Result:
    """How a game ended: the winning seat, or ``None`` for a draw."""

    winner: int | None
    reason: str

    def as_dict(self) -> ResultData:
        return {"winner": self.winner, "reason": self.reason}


class MoveModel(BaseModel):
    """Base of every game's move model: strict JSON (an int is never a bool
    or a string) and no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OptionsModel(BaseModel):
    """Base of a game's options model (the options a match of it accepts)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoOptions(OptionsModel):
    """A game that takes no options."""


M = TypeVar("M", bound=MoveModel)


class Game(Generic[M]):
    """Base class for a game's rules.

    Subclasses set ``slug``, ``name``, ``min_players``, ``max_players`` and
    ``Move`` (a :class:`MoveModel`), and implement :meth:`initial_state`,
    :meth:`turn`, :meth:`apply_move`, :meth:`result` and :meth:`legal_moves`.
    Everything else has a default.
    """

    slug: ClassVar[str]
    name: ClassVar[str]
    min_players: ClassVar[int]
    max_players: ClassVar[int]
    Move: ClassVar[type[MoveModel]]
    Options: ClassVar[type[OptionsModel]] = NoOptions
    allows_draw_offers: ClassVar[bool] = True
    #: The game's browser renderer, a static file path (``"reversi/board.js"``)
    #: that calls ``registerBoard(slug, render)``; ``None``: the generic board.
    board_script: ClassVar[str | None] = None
    #: Milliseconds between ticks while a match is active; ``None``: the state
    #: changes only with moves. Only a real-time game
    #: (:class:`~games.engine.realtime.RealtimeGame`) sets it; published in
    #: ``GET /api/games``.
    tick_ms: ClassVar[int | None] = None

    # --- options -----------------------------------------------------------

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The options to store (the game's own, engine options removed), or
        :class:`InvalidOptions`. By default, checked against ``Options`` and
        then :meth:`check_options`."""
        try:
            parsed = self.Options.model_validate(options)
        except ValidationError as invalid:
            raise InvalidOptions(_problems(invalid, f"{self.slug} options")) from None
        return self.check_options(parsed)

    def check_options(self, options: OptionsModel) -> dict[str, Any]:
        """Rules-level checks of well-formed options (a legal position, say);
        returns what to store."""
        return options.model_dump(exclude_none=True)

    # --- moves -------------------------------------------------------------

    def parse_move(self, move: Any) -> M:
        """``move`` as the game's ``Move`` model, or :class:`IllegalMove`
        saying what is wrong with its shape."""
        if not isinstance(move, dict):
            raise IllegalMove(f"a {self.slug} move is a JSON object")
        try:
            return self.Move.model_validate(move)  # type: ignore[return-value]
        except ValidationError as invalid:
            raise IllegalMove(_problems(invalid, f"invalid {self.slug} move")) from None

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        raise NotImplementedError

    def turn(self, state: State) -> list[int]:
        """Seats that may move now (several at once for simultaneous phases);
        empty once the game is over."""
        raise NotImplementedError

    def apply_move(self, state: State, seat: int, move: M) -> State:
        """The state after ``seat`` plays ``move`` (already parsed, and
        ``seat`` is in :meth:`turn`), or :class:`IllegalMove` with the reason."""
        raise NotImplementedError

    def result(self, state: State) -> Result | None:
        """The result once the game is over, else ``None``."""
        raise NotImplementedError

    def legal_moves(self, state: State, seat: int) -> Iterator[MoveJson]:
        """Every move ``seat`` may play now, as the JSON a client sends,
        lazily and in a fixed order (there may be very many: take what you
        need). Nothing when it is not ``seat``'s turn."""
        raise NotImplementedError

    def random_move(self, state: State, seat: int, rng: random.Random) -> MoveJson | None:
        """A uniformly chosen legal move, or ``None`` when there is none.
        Games whose moves are too many to list override this."""
        moves = list(self.legal_moves(state, seat))
        return rng.choice(moves) if moves else None

    def timeout_result(self, state: State, flagged: list[int], seats: int) -> Result:
        """The result when the seats in ``flagged`` ran out of time. By default
        the one seat left wins; if several seats remain or none does, a draw."""
        remaining = [seat for seat in range(seats) if seat not in flagged]
        return Result(winner=remaining[0] if len(remaining) == 1 else None, reason="timeout")

    # --- what each viewer sees ---------------------------------------------

    def view(self, state: State, seat: int | None) -> State:
        """The state as ``seat`` (or a spectator, ``None``) may see it."""
        return state

    def view_move(self, state: State, move: MoveJson, mover: int | None, viewer: int | None) -> MoveJson | None:
        """A logged move as ``viewer`` may see it, given the match's current
        ``state`` (a game can reveal secrets once it is over)."""
        return move

    @property
    def hidden_information(self) -> bool:
        """Whether any viewer may see less than everything: derived from the
        game overriding :meth:`view` or :meth:`view_move`, so it cannot be
        forgotten. Each seat then gets its own copy of every event."""
        cls = type(self)
        return cls.view is not Game.view or cls.view_move is not Game.view_move

    def describe(self) -> dict[str, Any]:
        """What ``GET /api/games`` says about the game."""
        return {
            "slug": self.slug,
            "name": self.name,
            "min_players": self.min_players,
            "max_players": self.max_players,
            "allows_draw_offers": self.allows_draw_offers,
            "hidden_information": self.hidden_information,
            "move_schema": self.Move.model_json_schema(),
            "options_schema": self.Options.model_json_schema(),
            "board_script": self.board_script,
            "tick_ms": self.tick_ms,
        }


def _problems(invalid: ValidationError, what: str) -> str:
    details = "; ".join(_problem(error["loc"], error["msg"]) for error in invalid.errors())
    return f"{what}: {details}"


def _problem(location: tuple[int | str, ...], message: str) -> str:
    where = ".".join(str(part) for part in location)
    return f"{where}: {message}" if where else message
