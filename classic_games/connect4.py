"""Connect four: move ``{"column": 0..6}``; the disc falls to the lowest free
row. Seat 0 plays red (``"R"``) and moves first, seat 1 yellow (``"Y"``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from games.engine import Game, IllegalMove, MoveModel, Result, State

COLUMNS, ROWS = 7, 6
DISCS = ("R", "Y")
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))  # across, up, and both diagonals


class ConnectFourMove(MoveModel):
    """``{"column": 0..6}``."""

    column: Annotated[int, Field(ge=0, le=COLUMNS - 1)]


class ConnectFour(Game[ConnectFourMove]):
    slug = "connect4"
    name = "Connect four"
    min_players = 2
    max_players = 2
    Move = ConnectFourMove
    board_script = "classic_games/connect4.js"

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        """``columns[c]`` lists column c's discs from the bottom up."""
        return {"columns": [[] for _ in range(COLUMNS)]}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        return [sum(len(column) for column in state["columns"]) % 2]

    def apply_move(self, state: State, seat: int, move: ConnectFourMove) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        if len(state["columns"][move.column]) == ROWS:
            raise IllegalMove(f"column {move.column} is full")
        columns = [list(c) for c in state["columns"]]
        columns[move.column].append(DISCS[seat])
        return {"columns": columns}

    def result(self, state: State) -> Result | None:
        columns = state["columns"]

        def disc(col: int, row: int) -> str | None:
            if 0 <= col < COLUMNS and 0 <= row < len(columns[col]):
                return columns[col][row]
            return None

        for col in range(COLUMNS):
            for row, mark in enumerate(columns[col]):
                for dc, dr in DIRECTIONS:
                    if all(disc(col + dc * step, row + dr * step) == mark for step in range(1, 4)):
                        return Result(winner=DISCS.index(mark), reason="four_in_a_row")
        if all(len(column) == ROWS for column in columns):
            return Result(winner=None, reason="board_full")
        return None

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        """Every column that is not full, from left to right."""
        if seat not in self.turn(state):
            return
        for column, discs in enumerate(state["columns"]):
            if len(discs) < ROWS:
                yield {"column": column}
