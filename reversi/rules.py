"""Reversi (Othello) on an 8x8 board. Pure Python: no Django.

Seat 0 plays black (``"B"``) and moves first, seat 1 white (``"W"``). The
game starts from the standard position: white on d4 and e5, black on e4 and
d5 (rows 3 and 4, columns 3 and 4, counted from 0 at the top left).

A move is ``{"row": r, "col": c}`` with ``r`` and ``c`` integers from 0 to
7: a disc on an empty square that closes at least one straight line (in any
of the eight directions) of the opponent's discs between it and one of the
mover's own; every line closed flips. A move that flips nothing is refused.

Passing is automatic, never a move. When the side to move next has no legal
move, its turn is skipped: the turn goes back to the side that just moved,
and the state records the skipped seat in ``passed`` (so the board can say
"white has no move"). A player is therefore never asked for a move they
cannot make, the clock never runs for a seat that can only pass, and the
move log holds nothing but discs placed. When neither side can move (the
board is full, one colour is gone, or both are blocked) the game is over:
most discs wins (``most_discs``); equal counts are a draw (``equal_discs``).

The state, a JSON object::

    {
        "board": ["........", "........", "........", "...WB...",
                  "...BW...", "........", "........", "........"],
        "to_move": 0,        # the seat to move; null once the game is over
        "passed": null,      # the seat whose turn was just skipped, else null
        "last": null         # [row, col] of the last disc placed, else null
    }

``board[r][c]`` is row ``r`` (0 at the top), column ``c`` (0 at the left):
``"."`` empty, ``"B"`` black, ``"W"`` white.

:meth:`Reversi.legal_moves` yields every square the seat to move may play,
as ``{"row": r, "col": c}``, row by row from the top left; nothing for the
other seat, and nothing once the game is over. Every move it yields is one
:meth:`Reversi.apply_move` accepts, and it yields every move that one
accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field

from games.engine import Game, IllegalMove, MoveModel, Result, State

SIZE = 8
EMPTY = "."
DISCS = ("B", "W")  # seat 0 black, seat 1 white
SIDES = ("black", "white")
DIRECTIONS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))

Board = list[str]
Square = Annotated[int, Field(ge=0, le=SIZE - 1)]


class ReversiMove(MoveModel):
    """``{"row": 0..7, "col": 0..7}``: where to place a disc."""

    row: Square
    col: Square


def start_board() -> Board:
    rows = [[EMPTY] * SIZE for _ in range(SIZE)]
    middle = SIZE // 2
    rows[middle - 1][middle - 1] = rows[middle][middle] = "W"
    rows[middle - 1][middle] = rows[middle][middle - 1] = "B"
    return ["".join(row) for row in rows]


def flips(board: Board, row: int, col: int, disc: str) -> list[tuple[int, int]]:
    """The squares that flip when ``disc`` is placed at (row, col); empty when
    the square is taken or the move closes no line."""
    if board[row][col] != EMPTY:
        return []
    theirs = DISCS[1 - DISCS.index(disc)]
    flipped: list[tuple[int, int]] = []
    for dr, dc in DIRECTIONS:
        line: list[tuple[int, int]] = []
        r, c = row + dr, col + dc
        while 0 <= r < SIZE and 0 <= c < SIZE and board[r][c] == theirs:
            line.append((r, c))
            r, c = r + dr, c + dc
        if line and 0 <= r < SIZE and 0 <= c < SIZE and board[r][c] == disc:
            flipped.extend(line)
    return flipped


def playable(board: Board, disc: str) -> Iterator[tuple[int, int]]:
    """Every square where ``disc`` may be placed, row by row from the top left."""
    for row in range(SIZE):
        for col in range(SIZE):
            if flips(board, row, col, disc):
                yield row, col


def can_move(board: Board, disc: str) -> bool:
    return next(playable(board, disc), None) is not None


def count(board: Board) -> tuple[int, int]:
    """Discs on the board: (black, white)."""
    text = "".join(board)
    return text.count(DISCS[0]), text.count(DISCS[1])


class Reversi(Game[ReversiMove]):
    slug = "reversi"
    name = "Reversi"
    min_players = 2
    max_players = 2
    Move = ReversiMove
    board_script = "reversi/board.js"

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        return {"board": start_board(), "to_move": 0, "passed": None, "last": None}

    def turn(self, state: State) -> list[int]:
        return [] if state["to_move"] is None else [state["to_move"]]

    def apply_move(self, state: State, seat: int, move: ReversiMove) -> State:
        board: Board = state["board"]
        disc = DISCS[seat]
        if board[move.row][move.col] != EMPTY:
            raise IllegalMove(f"row {move.row}, col {move.col} is already taken")
        flipped = flips(board, move.row, move.col, disc)
        if not flipped:
            raise IllegalMove(
                f"a disc on row {move.row}, col {move.col} flips nothing: it must close a line of "
                f"{SIDES[1 - seat]} discs"
            )
        rows = [list(line) for line in board]
        for r, c in [(move.row, move.col), *flipped]:
            rows[r][c] = disc
        after = ["".join(line) for line in rows]
        other = 1 - seat
        if can_move(after, DISCS[other]):
            to_move, passed = other, None
        elif can_move(after, disc):
            to_move, passed = seat, other
        else:
            to_move, passed = None, None
        return {"board": after, "to_move": to_move, "passed": passed, "last": [move.row, move.col]}

    def result(self, state: State) -> Result | None:
        if state["to_move"] is not None:
            return None
        black, white = count(state["board"])
        if black == white:
            return Result(winner=None, reason="equal_discs")
        return Result(winner=0 if black > white else 1, reason="most_discs")

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        if state["to_move"] != seat:
            return
        for row, col in playable(state["board"], DISCS[seat]):
            yield {"row": row, "col": col}
