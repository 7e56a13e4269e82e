"""Nim, for the tests: a pile of stones, each player takes 1 to 3 in turn,
whoever takes the last stone wins. A move also carries words to say and a
flag, so its form has a number input, a text input and a checkbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from games.engine import Game, IllegalMove, MoveModel, Result, State

PILE = 7


class NimMove(MoveModel):
    take: Annotated[int, Field(ge=1, le=3)]
    say: str | None = None
    bluff: bool = False


class Nim(Game[NimMove]):
    slug = "nim"
    name = "Nim"
    min_players = 2
    max_players = 2
    Move = NimMove

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        return {"pile": PILE, "to_move": 0, "said": []}

    def turn(self, state: State) -> list[int]:
        return [state["to_move"]] if state["pile"] else []

    def apply_move(self, state: State, seat: int, move: NimMove) -> State:
        if move.take > state["pile"]:
            raise IllegalMove(f"only {state['pile']} left")
        said = [*state["said"], f"{move.say}{' (bluffing)' if move.bluff else ''}"] if move.say else state["said"]
        return {"pile": state["pile"] - move.take, "to_move": 1 - seat, "said": said}

    def result(self, state: State) -> Result | None:
        return None if state["pile"] else Result(winner=1 - state["to_move"], reason="last_stone")

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        if self.turn(state) == [seat]:
            for take in range(1, min(3, state["pile"]) + 1):
                yield {"take": take}
