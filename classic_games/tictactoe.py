"""Tic-tac-toe: move ``{"cell": 0..8}``, cells numbered row by row; seat 0 is X and moves first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from games.engine import Game, IllegalMove, MoveModel, Result, State

MARKS = ("X", "O")
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip


class TicTacToeMove(MoveModel):
    """``{"cell": 0..8}``."""

    cell: Annotated[int, Field(ge=0, le=8)]


class TicTacToe(Game[TicTacToeMove]):
    slug = "tictactoe"
    name = "Tic-tac-toe"
    min_players = 2
    max_players = 2
    Move = TicTacToeMove
    board_script = "classic_games/tictactoe.js"

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        return {"board": [None] * 9}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        placed = sum(cell is not None for cell in state["board"])
        return [placed % 2]

    def apply_move(self, state: State, seat: int, move: TicTacToeMove) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        board = state["board"]
        if board[move.cell] is not None:
            raise IllegalMove(f"cell {move.cell} is already taken")
        new_board = list(board)
        new_board[move.cell] = MARKS[seat]
        return {"board": new_board}

    def result(self, state: State) -> Result | None:
        board = state["board"]
        for a, b, c in LINES:
            if board[a] is not None and board[a] == board[b] == board[c]:
                return Result(winner=MARKS.index(board[a]), reason="three_in_a_row")
        if all(cell is not None for cell in board):
            return Result(winner=None, reason="board_full")
        return None

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        """Every free cell, in order."""
        if seat not in self.turn(state):
            return
        for cell, mark in enumerate(state["board"]):
            if mark is None:
                yield {"cell": cell}
