"""Connect four: move ``{"column": 0..6}``; the disc falls to the lowest free
row. Seat 0 plays red (``"R"``) and moves first, seat 1 yellow (``"Y"``)."""

from __future__ import annotations

from games.rules.base import Game, IllegalMove, Move, Result, State

COLUMNS, ROWS = 7, 6
DISCS = ("R", "Y")
DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))  # across, up, and both diagonals


class ConnectFour(Game):
    slug = "connect4"
    name = "Connect four"
    min_players = 2
    max_players = 2

    def initial_state(self, seats: int, options: dict) -> State:
        """``columns[c]`` lists column c's discs from the bottom up."""
        return {"columns": [[] for _ in range(COLUMNS)]}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        return [sum(len(column) for column in state["columns"]) % 2]

    def apply_move(self, state: State, seat: int, move: Move) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        if not isinstance(move, dict) or set(move) != {"column"}:
            raise IllegalMove('a connect-four move is {"column": 0..6}')
        column = move["column"]
        if not isinstance(column, int) or isinstance(column, bool) or not 0 <= column < COLUMNS:
            raise IllegalMove(f"column must be an integer from 0 to {COLUMNS - 1}")
        if len(state["columns"][column]) == ROWS:
            raise IllegalMove(f"column {column} is full")
        columns = [list(c) for c in state["columns"]]
        columns[column].append(DISCS[seat])
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
