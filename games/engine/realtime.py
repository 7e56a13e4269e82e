"""The contract of a real-time game: the world advances in fixed ticks
whether or not anyone acts. Pure Python, no Django.

A real-time game is a :class:`RealtimeGame`: a :class:`~games.engine.game.Game`
whose state changes only through :meth:`RealtimeGame.apply_tick`, one tick at
a time, given the inputs the players sent for that tick (each parsed with the
game's ``Move`` model). The state after a tick depends only on the state
before it, the tick number and those inputs, so a match replays exactly from
the inputs logged with their tick numbers.

Inputs are not moves: a player may send one whenever :meth:`Game.turn`
lists their seat (the seats still in play), at most ``inputs_per_tick`` of
them per tick; they are applied at the next tick the server runs, never to
a tick already past.

The state holds ``"tick"``, the number of the last tick applied (0 before
the first); the engine reads it to know where a match stands.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, TypeVar

from games.engine.game import Game, IllegalMove, MoveJson, MoveModel, Result, State

M = TypeVar("M", bound=MoveModel)


class RealtimeGame(Game[M]):
    """Base class of a real-time game's rules.

    Subclasses set ``slug``, ``name``, ``min_players``, ``max_players``,
    ``Move`` (the input model) and ``tick_ms``, and implement
    :meth:`initial_state`, :meth:`turn`, :meth:`apply_tick`, :meth:`result`
    and :meth:`legal_moves` (the inputs a seat may send now, for bots).
    """

    #: Milliseconds between ticks (50: 20 Hz).
    tick_ms: ClassVar[int | None] = 50
    #: Ticks between two frames broadcast to the players (1: every tick).
    frame_every: ClassVar[int] = 1
    #: Inputs one seat may send for one tick; more are refused.
    inputs_per_tick: ClassVar[int] = 1
    #: Ticks after which the match ends in a draw if the rules have not ended it.
    max_ticks: ClassVar[int] = 20 * 60 * 10
    #: Milliseconds between the match filling up and its first tick: the
    #: countdown that lets every player's screen show the start.
    start_delay_ms: ClassVar[int] = 3000
    allows_draw_offers: ClassVar[bool] = False

    def apply_tick(self, state: State, tick: int, inputs: dict[int, list[M]]) -> State:
        """The state after tick number ``tick`` (1 for the first), given
        each seat's inputs for it, in the order they arrived. Never changes
        ``state``; never raises for an input the model accepted (an input
        the rules cannot use now is ignored, deterministically)."""
        raise NotImplementedError

    def frame(self, before: State, after: State) -> dict[str, Any]:
        """What changed in one tick, for the frame sent to every viewer
        (small: it goes out up to ``1000 / tick_ms`` times a second). By
        default the whole state after the tick."""
        return {"state": after}

    def bot_input(self, state: State, seat: int, rng: random.Random) -> MoveJson | None:
        """The input a computer player sends for the next tick (``None``:
        nothing, keep going). Called by the loop every tick for bot seats,
        so it must be quick (well under a millisecond). By default nothing."""
        return None

    def tick_result(self, state: State) -> Result | None:
        """How the match stands after a tick: the rules' :meth:`result`, or a
        draw (``max_ticks``) once ``max_ticks`` ticks have run without one.
        The loop and the fold both end a match with this."""
        result = self.result(state)
        if result is None and state["tick"] >= self.max_ticks:
            return Result(winner=None, reason="max_ticks")
        return result

    def apply_move(self, state: State, seat: int, move: M) -> State:
        raise IllegalMove("a real-time game takes inputs, applied at the next tick")
