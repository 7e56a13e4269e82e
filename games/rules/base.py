"""The interface every game implements: plain data and functions, no Django.

A game's state is a JSON-compatible dict. Rules never mutate the state they are
given; :meth:`Game.apply_move` returns a new one or raises :class:`IllegalMove`.
Seats are numbered from 0. ``seat=None`` in a view means a spectator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

State = dict[str, Any]
Move = dict[str, Any]


class IllegalMove(Exception):
    """A move the rules refuse; ``reason`` is shown to the player."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidOptions(ValueError):
    """Match options the game does not accept; the message names the problem."""


@dataclass(frozen=True)
class Result:
    """How a game ended: the winning seat, or ``None`` for a draw."""

    winner: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"winner": self.winner, "reason": self.reason}


class Game:
    """Base class for a game's rules. Subclasses set the class attributes and
    implement :meth:`initial_state`, :meth:`turn`, :meth:`apply_move` and
    :meth:`result`; the views default to "everything is public"."""

    slug: ClassVar[str]
    name: ClassVar[str]
    min_players: ClassVar[int]
    max_players: ClassVar[int]
    allows_draw_offers: ClassVar[bool] = True
    # True when view() or view_move() hide anything: each seat then gets its
    # own serialisation of every event, instead of one shared by all.
    hidden_information: ClassVar[bool] = False

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Return the options to store, or raise :class:`InvalidOptions`."""
        if options:
            raise InvalidOptions(f"{self.slug} takes no options, got: {', '.join(sorted(options))}")
        return {}

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        raise NotImplementedError

    def turn(self, state: State) -> list[int]:
        """Seats that may move now (several at once for simultaneous phases);
        empty once the game is over."""
        raise NotImplementedError

    def apply_move(self, state: State, seat: int, move: Move) -> State:
        """Validate ``move`` by ``seat`` and return the new state, or raise
        :class:`IllegalMove` with the reason."""
        raise NotImplementedError

    def result(self, state: State) -> Result | None:
        """The result once the game is over, else ``None``."""
        raise NotImplementedError

    def timeout_result(self, state: State, flagged: list[int], seats: int) -> Result:
        """The result when the seats in ``flagged`` ran out of time. By default
        the one seat left wins; if several seats remain or none does, a draw."""
        remaining = [seat for seat in range(seats) if seat not in flagged]
        return Result(winner=remaining[0] if len(remaining) == 1 else None, reason="timeout")

    def view(self, state: State, seat: int | None) -> State:
        """The state as ``seat`` (or a spectator, ``None``) may see it."""
        return state

    def view_move(self, state: State, move: Move, mover: int | None, viewer: int | None) -> Move | None:
        """A logged move as ``viewer`` may see it, given the match's current
        ``state`` (a game can reveal secrets once it is over)."""
        return move
