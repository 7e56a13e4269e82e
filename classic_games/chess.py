"""Chess, with the rules of the maintained ``chess`` package (python-chess).

Move ``{"uci": "e2e4"}`` (promotion ``"e7e8q"``). Seat 0 plays white.
Option ``{"fen": "..."}`` starts from another legal position (puzzles, endgame
drills); the side to move in it moves first.
FIDE's automatic endings end the game by themselves: checkmate, stalemate,
insufficient material (a dead position), fivefold repetition and the
75-move rule. Threefold repetition and the fifty-move rule are draws a
player may *claim*, as in FIDE's rules: ``{"claim_draw": true}`` when the
position already qualifies, or ``{"uci": "...", "claim_draw": true}`` for a
move that makes it qualify.

State: ``{"start": fen | null, "fen", "uci": [moves], "san": [moves], "check": bool,
"claim": reason | null, "anchor": {"fen", "ply"}}``.
Repetition needs history, not just the current position, but only back to
the last capture or pawn move (no earlier position can recur after one), so
``anchor`` keeps the position right after it and its ply: a move replays at
most the plies since then (fewer than 150, by the 75-move rule), never the
whole game.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Self

import chess
from pydantic import model_validator
from pydantic_core import PydanticCustomError

from games.engine import Game, IllegalMove, InvalidOptions, MoveModel, OptionsModel, Result, State

TERMINATIONS = {
    chess.Termination.CHECKMATE: "checkmate",
    chess.Termination.STALEMATE: "stalemate",
    chess.Termination.INSUFFICIENT_MATERIAL: "insufficient_material",
    chess.Termination.FIVEFOLD_REPETITION: "fivefold_repetition",
    chess.Termination.SEVENTYFIVE_MOVES: "seventyfive_moves",
    chess.Termination.THREEFOLD_REPETITION: "threefold_repetition",
    chess.Termination.FIFTY_MOVES: "fifty_moves",
}
COLORS = (chess.WHITE, chess.BLACK)


def _board(start: str | None, moves: tuple[str, ...] | list[str]) -> chess.Board:
    board = chess.Board(start or chess.STARTING_FEN)
    for uci in moves:
        board.push_uci(uci)
    return board


def _key(state: State) -> tuple[str, tuple[str, ...]]:
    anchor = state["anchor"]
    return anchor["fen"], tuple(state["uci"][anchor["ply"] :])


# The boards of recently seen positions, so the next move (or a replay's next
# step) starts from a copy instead of parsing and replaying the plies again.
RECENT_BOARDS = 512
_recent: OrderedDict[tuple[str, tuple[str, ...]], chess.Board] = OrderedDict()
_recent_lock = threading.Lock()


def _remember(key: tuple[str, tuple[str, ...]], board: chess.Board) -> None:
    with _recent_lock:
        _recent[key] = board
        _recent.move_to_end(key)
        while len(_recent) > RECENT_BOARDS:
            _recent.popitem(last=False)


def board_of(state: State) -> chess.Board:
    """The position with the history repetition needs (since the anchor): a
    board of the caller's own, to change at will."""
    key = _key(state)
    with _recent_lock:
        board = _recent.get(key)
    if board is None:
        board = _board(*key)
        _remember(key, board)
    return board.copy()


def _state(state: State, board: chess.Board, san: list[str], claim: str | None, played: str | None) -> State:
    """The state after ``board``, which holds the plies since ``state``'s anchor."""
    uci = [*state["uci"], played] if played else list(state["uci"])
    anchor = state["anchor"]
    if board.halfmove_clock == 0 and played:  # a capture or pawn move: nothing before it can recur
        anchor = {"fen": board.fen(), "ply": len(uci)}
        board = board.copy(stack=False)
    _remember((anchor["fen"], tuple(uci[anchor["ply"] :])), board)
    return {
        "start": state["start"],
        "fen": board.fen(),
        "uci": uci,
        "san": san,
        "check": board.is_check(),
        "claim": claim,
        "anchor": anchor,
    }


def _claimable(board: chess.Board) -> str | None:
    """The draw a player may claim in ``board``'s position (FIDE 9.2, 9.3),
    if any: none once the game has ended by itself."""
    if board.outcome() is not None:
        return None
    if board.is_fifty_moves():
        return "fifty_moves"
    if board.is_repetition(3):
        return "threefold_repetition"
    return None


@lru_cache(maxsize=4096)
def automatic_result(anchor: str, moves: tuple[str, ...]) -> Result | None:
    """The game's end by FIDE's automatic rules, cached: every view of the
    match asks for it, and the answer depends on the plies since the anchor."""
    with _recent_lock:
        board = _recent.get((anchor, moves))
    # A copy: outcome() pops and pushes moves to look for repetitions.
    outcome = (board.copy() if board is not None else _board(anchor, moves)).outcome(claim_draw=False)
    if outcome is None:
        return None
    winner = None if outcome.winner is None else COLORS.index(outcome.winner)
    return Result(winner=winner, reason=TERMINATIONS[outcome.termination])


USAGE = 'a chess move is {"uci": "e2e4"}, optionally with "claim_draw": true'


class ChessMove(MoveModel):
    """``{"uci": "e2e4"}``, ``{"claim_draw": true}``, or both: a move and a
    claim the position after it qualifies for. Whether ``uci`` names a move
    is the rules' business (it depends on the position)."""

    uci: str | None = None
    claim_draw: bool = False

    @model_validator(mode="after")
    def _a_move_or_a_claim(self) -> Self:
        if self.uci is None and "uci" in self.model_fields_set:
            raise PydanticCustomError("chess_move", "uci must be a string such as e2e4")
        if self.uci is None and not self.claim_draw:
            raise PydanticCustomError("chess_move", USAGE)
        return self


class ChessOptions(OptionsModel):
    """``{"fen": "..."}``: start from this position instead of the usual one."""

    fen: str | None = None


class Chess(Game[ChessMove]):
    slug = "chess"
    name = "Chess"
    min_players = 2
    max_players = 2
    Move = ChessMove
    Options = ChessOptions
    board_script = "classic_games/chess.js"

    def check_options(self, options: ChessOptions) -> dict[str, Any]:  # type: ignore[override]
        if options.fen is None:
            if "fen" in options.model_fields_set:
                raise InvalidOptions("fen must be a string in FEN notation")
            return {}
        try:
            board = chess.Board(options.fen)
        except ValueError:
            raise InvalidOptions("fen is not a FEN position") from None
        if not board.is_valid():
            raise InvalidOptions("fen is not a legal chess position")
        if board.outcome() is not None:
            raise InvalidOptions("fen is a position where the game is already over")
        return {"fen": board.fen()}

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        start = options.get("fen")
        board = chess.Board(start or chess.STARTING_FEN)
        empty: State = {"start": start, "uci": [], "anchor": {"fen": board.fen(), "ply": 0}}
        return _state(empty, board, [], None, None)

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        return [0 if state["fen"].split()[1] == "w" else 1]

    def apply_move(self, state: State, seat: int, move: ChessMove) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        board = board_of(state)
        san, played = list(state["san"]), None
        if move.uci is not None:
            san.append(self._push(board, move.uci))
            played = board.peek().uci()
        if not move.claim_draw:
            return _state(state, board, san, None, played)
        # FIDE 9.2 and 9.3: the position on the board (after the claimant's
        # move, if they name one) must qualify; a move that *would* repeat
        # does not count until it is played.
        claim = _claimable(board)
        if claim is not None or played is not None:  # FIDE 9.5: a wrong claim's move stands
            return _state(state, board, san, claim, played)
        raise IllegalMove("no draw can be claimed: neither threefold repetition nor the fifty-move rule applies")

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        """Every legal move in UCI notation, sorted, then ``{"claim_draw":
        true}`` when a draw may be claimed in the position as it stands.

        Not listed, though legal: each move again with ``"claim_draw": true``
        (it is the same move, plus a claim that succeeds only if the move
        makes the position qualify)."""
        if seat not in self.turn(state):
            return
        board = board_of(state)
        for uci in sorted(move.uci() for move in board.legal_moves):
            yield {"uci": uci}
        if _claimable(board) is not None:
            yield {"claim_draw": True}

    @staticmethod
    def _push(board: chess.Board, uci: str) -> str:
        try:
            parsed = chess.Move.from_uci(uci)
        except (chess.InvalidMoveError, ValueError):
            raise IllegalMove(f"{uci!r} is not a move in UCI notation (e2e4, e7e8q)") from None
        if parsed not in board.legal_moves:
            raise IllegalMove(f"{uci} is not legal in this position")
        san = board.san(parsed)
        board.push(parsed)
        return san

    def result(self, state: State) -> Result | None:
        if state["claim"] is not None:
            return Result(winner=None, reason=state["claim"])
        anchor = state["anchor"]
        return automatic_result(anchor["fen"], tuple(state["uci"][anchor["ply"] :]))

    def timeout_result(self, state: State, flagged: list[int], seats: int) -> Result:
        """FIDE 6.9: a flag loses, unless the opponent cannot checkmate by
        any series of legal moves; then it is a draw."""
        if len(flagged) != 1:
            return Result(winner=None, reason="timeout")
        opponent = 1 - flagged[0]
        if board_of(state).has_insufficient_material(COLORS[opponent]):
            return Result(winner=None, reason="timeout_vs_insufficient_material")
        return Result(winner=opponent, reason="timeout")
