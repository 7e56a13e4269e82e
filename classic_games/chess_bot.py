"""The chess bot's searching levels: a UCI engine through python-chess when
``CHESS_ENGINE`` names one (Debian's ``stockfish``), with a skill level and a
time limit per bot level; a small built-in search otherwise, or when the
engine fails (then it is started again on the next move).

Registered for ``chess`` by ``classic_games/bot_strategies.py``, which the
bots app imports at startup: the bots app itself names no game. Pure Python
plus python-chess; it runs in the bots' thinking processes.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import chess
import chess.engine

from bots.levels import Level
from classic_games.chess import board_of
from games.engine import Game, State
from games.engine.game import MoveJson

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UciLevel:
    """The engine's ``Skill Level`` (0 to 20) and its time per move."""

    skill: int
    seconds: float


#: By bot level; a level without an entry plays like the highest one below it.
UCI_LEVELS = {2: UciLevel(skill=3, seconds=0.1), 3: UciLevel(skill=20, seconds=1.0)}
#: Plies the built-in search may look ahead, by bot level (then captures only).
BUILTIN_DEPTH = {2: 1, 3: 3}
ENGINE_TIMEOUT = 10.0  # seconds for the engine to start or to answer beyond its limit

PIECE_VALUES = {chess.PAWN: 100, chess.KNIGHT: 320, chess.BISHOP: 330, chess.ROOK: 500, chess.QUEEN: 900, chess.KING: 0}
MATE = 100_000
QUIESCENCE_PLIES = 4


T = TypeVar("T")


def _for_level(table: dict[int, T], level: int) -> T:
    below = [known for known in table if known <= level]
    return table[max(below) if below else min(table)]


class ChessStrategy:
    """``engine``: the path of a UCI executable, or empty for the built-in search."""

    def __init__(self, engine: str = "") -> None:
        self.engine_path = engine
        self.engine: chess.engine.SimpleEngine | None = None
        self.last_source = ""  # "uci" or "builtin": which one chose the last move

    def choose(
        self, game: Game, state: State, seat: int, level: Level, rng: random.Random, deadline: float
    ) -> MoveJson | None:
        if seat not in game.turn(state):
            return None
        board = board_of(state)
        if not any(board.legal_moves):
            return None
        if self.engine_path:
            move = self.uci_move(board, level, deadline)
            if move is not None:
                self.last_source = "uci"
                return {"uci": move.uci()}
        self.last_source = "builtin"
        depth = _for_level(BUILTIN_DEPTH, level.number)
        return {"uci": BuiltinSearch(board, rng, deadline).best(depth).uci()}

    def uci_move(self, board: chess.Board, level: Level, deadline: float) -> chess.Move | None:
        setting = _for_level(UCI_LEVELS, level.number)
        seconds = max(0.01, min(setting.seconds, deadline - time.monotonic()))
        try:
            if self.engine is None:
                self.engine = chess.engine.SimpleEngine.popen_uci(self.engine_path, timeout=ENGINE_TIMEOUT)
                # A thinking process that ends (its parent died) joins python-chess's
                # thread, which waits for the engine: quit the engine first
                # (multiprocessing runs its finalizers before joining threads).
                multiprocessing.util.Finalize(None, self.close, exitpriority=10)
            self.engine.configure({"Skill Level": setting.skill})
            played = self.engine.play(board, chess.engine.Limit(time=seconds))
            return played.move
        except (chess.engine.EngineError, chess.engine.EngineTerminatedError, OSError, TimeoutError):
            logger.exception(
                "the UCI engine %s failed (pid %s); using the built-in search", self.engine_path, os.getpid()
            )
            self.close()
            return None

    def close(self) -> None:
        """Stop the engine process. python-chess talks to it from a thread
        that keeps its process alive until the engine quits (thinking
        processes are terminated instead, which ends the engine too)."""
        if self.engine is not None:
            try:
                self.engine.quit()
            except Exception:
                logger.debug("the UCI engine did not quit cleanly", exc_info=True)
            self.engine = None


class BuiltinSearch:
    """Alpha-beta over material and a little piece placement, captures
    searched to the end (quiescence, a few plies), until ``deadline``."""

    def __init__(self, board: chess.Board, rng: random.Random, deadline: float) -> None:
        self.board, self.rng, self.deadline, self.nodes = board, rng, deadline, 0

    def best(self, max_depth: int) -> chess.Move:
        moves = list(self.board.legal_moves)
        self.rng.shuffle(moves)  # equal moves are not always the first one listed
        best = moves[0]
        for depth in range(1, max_depth + 1):
            try:
                best = self.root(moves, depth)
            except TimeoutError:
                break
            moves.remove(best)
            moves.insert(0, best)  # the best move so far is searched first next time
        return best

    def root(self, moves: list[chess.Move], depth: int) -> chess.Move:
        alpha, best = -MATE - 1, moves[0]
        for move in moves:
            self.board.push(move)
            try:
                score = -self.search(depth - 1, -MATE - 1, -alpha)
            finally:
                self.board.pop()
            if score > alpha:
                alpha, best = score, move
        return best

    def search(self, depth: int, alpha: int, beta: int) -> int:
        self.nodes += 1
        if self.nodes % 256 == 0 and time.monotonic() > self.deadline:
            raise TimeoutError
        board = self.board
        if board.is_checkmate():
            return -MATE + board.ply()
        if board.is_stalemate() or board.is_insufficient_material() or board.is_repetition(3):
            return 0
        if depth <= 0:
            return self.quiescence(alpha, beta, QUIESCENCE_PLIES)
        for move in self.ordered(board.legal_moves):
            board.push(move)
            try:
                score = -self.search(depth - 1, -beta, -alpha)
            finally:
                board.pop()
            if score >= beta:
                return score
            alpha = max(alpha, score)
        return alpha

    def quiescence(self, alpha: int, beta: int, plies: int) -> int:
        standing = self.evaluate()
        if standing >= beta or plies == 0:
            return standing
        alpha = max(alpha, standing)
        for move in self.ordered(self.board.generate_legal_captures()):
            self.board.push(move)
            try:
                score = -self.quiescence(-beta, -alpha, plies - 1)
            finally:
                self.board.pop()
            if score >= beta:
                return score
            alpha = max(alpha, score)
        return alpha

    def ordered(self, moves: Iterable[chess.Move]) -> list[chess.Move]:
        """Captures first, the most valuable victim first."""
        board = self.board

        def victim(move: chess.Move) -> int:
            captured = board.piece_type_at(move.to_square)
            if captured is None:
                return 100 if board.is_en_passant(move) else -1 if move.promotion is None else 800
            return PIECE_VALUES[captured]

        return sorted(moves, key=victim, reverse=True)

    def evaluate(self) -> int:
        """Material and centralisation, for the side to move."""
        board, score = self.board, 0
        for square, piece in board.piece_map().items():
            value = PIECE_VALUES[piece.piece_type]
            if piece.piece_type in (chess.KNIGHT, chess.BISHOP, chess.PAWN):
                file, rank = chess.square_file(square), chess.square_rank(square)
                value += 10 - 3 * (abs(2 * file - 7) + abs(2 * rank - 7)) // 4
            score += value if piece.color == board.turn else -value
        return score
