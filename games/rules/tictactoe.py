"""Tic-tac-toe: move ``{"cell": 0..8}``, cells numbered row by row; seat 0 is X and moves first."""

from __future__ import annotations

from games.rules.base import Game, IllegalMove, Move, Result, State

MARKS = ("X", "O")
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip


class TicTacToe(Game):
    slug = "tictactoe"
    name = "Tic-tac-toe"
    min_players = 2
    max_players = 2

    def initial_state(self, seats: int, options: dict) -> State:
        return {"board": [None] * 9}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        placed = sum(cell is not None for cell in state["board"])
        return [placed % 2]

    def apply_move(self, state: State, seat: int, move: Move) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        cell = parse_cell(move)
        board = state["board"]
        if board[cell] is not None:
            raise IllegalMove(f"cell {cell} is already taken")
        new_board = list(board)
        new_board[cell] = MARKS[seat]
        return {"board": new_board}

    def result(self, state: State) -> Result | None:
        board = state["board"]
        for a, b, c in LINES:
            if board[a] is not None and board[a] == board[b] == board[c]:
                return Result(winner=MARKS.index(board[a]), reason="three_in_a_row")
        if all(cell is not None for cell in board):
            return Result(winner=None, reason="board_full")
        return None


def parse_cell(move: Move) -> int:
    if not isinstance(move, dict) or set(move) != {"cell"}:
        raise IllegalMove('a tic-tac-toe move is {"cell": 0..8}')
    cell = move["cell"]
    if not isinstance(cell, int) or isinstance(cell, bool) or not 0 <= cell <= 8:
        raise IllegalMove("cell must be an integer from 0 to 8")
    return cell
