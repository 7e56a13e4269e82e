"""The searching player, for any game of perfect information, over nothing but
the engine's contract (``legal_moves``, ``apply_move``, ``turn``, ``result``).

Two searches share one time budget:

1. Iterative-deepening alpha-beta with a transposition table proves what can
   be proven: a move that forces a win, moves that lose by force. There is no
   evaluation function (a game need not provide one), so a position at the
   horizon is worth 0, and values are only win, loss or "not decided": a
   proven value is therefore exact whatever the horizon was. When a whole
   iteration reached no horizon, the position is solved and the bot plays
   perfectly (tic-tac-toe is solved in well under a second).
2. Monte Carlo tree search (UCT with random playouts) chooses among the moves
   not proven lost, with the rest of the budget.

Values are from the point of view of the seat to move in a position; a
position where several seats are in turn (a simultaneous phase) is treated
as a horizon. Wins and losses carry no distance: the root prefers the win
proven at the smallest depth and the loss proven at the largest, so a won
game is closed quickly and a lost one dragged out.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass, field

from games.engine import Game, Result, State
from games.engine.game import MoveJson

WIN = 1
LOSS = -1
UNDECIDED = 0
EXACT, LOWER, UPPER = 0, 1, 2
MAX_DEPTH = 200
#: A random playout longer than this counts as a draw (games that can cycle).
MAX_PLAYOUT_PLIES = 1000
#: The most positions one proof may keep (its memory): reaching it ends the proof like the deadline.
MAX_CACHED_POSITIONS = 100_000
EXPLORATION = 1.4


class OutOfTime(Exception):
    """The deadline passed in the middle of a search."""


@dataclass
class Position:
    """A position met by the search: who is in turn, how it ended, and
    (once expanded) its moves with the key of the position each leads to."""

    state: State
    turn: list[int]
    result: Result | None
    moves: list[tuple[MoveJson, str]] | None = None


@dataclass
class Entry:
    """A transposition table entry: ``value`` as an exact value or a bound
    (``flag``), searched ``depth`` plies deep; ``settled`` when no horizon
    was reached below it, so it holds at any depth."""

    value: int
    flag: int
    depth: int
    settled: bool
    best: int


@dataclass
class RootMove:
    move: MoveJson
    key: str
    value: int = UNDECIDED
    proven_at: int | None = None  # the depth at which a win or loss was proven
    settled: bool = False


def position_key(state: State) -> str:
    """Equal states give equal keys (the rules build states the same way
    every time; a miss only costs a transposition, never correctness)."""
    return repr(state)


@dataclass
class Search:
    """One decision of ``seat`` in ``state``: build it, then :meth:`best_move`."""

    game: Game
    state: State
    seat: int
    rng: random.Random
    deadline: float
    max_depth: int | None = None
    monte_carlo: bool = True
    positions: dict[str, Position] = field(default_factory=dict)
    table: dict[str, Entry] = field(default_factory=dict)
    nodes: int = 0
    depth_reached: int = 0
    solved: bool = False
    playouts: int = 0

    # --- positions -----------------------------------------------------------

    def position(self, key: str, state: State) -> Position:
        known = self.positions.get(key)
        if known is None:
            if len(self.positions) >= MAX_CACHED_POSITIONS:
                raise OutOfTime
            turn = self.game.turn(state)
            known = Position(state, turn, self.game.result(state) if not turn else None)
            self.positions[key] = known
        return known

    def expand(self, position: Position) -> list[tuple[MoveJson, str]]:
        if position.moves is None:
            mover = position.turn[0]
            moves = []
            for move in self.game.legal_moves(position.state, mover):
                child = self.game.apply_move(position.state, mover, self.game.parse_move(move))
                key = position_key(child)
                self.position(key, child)
                moves.append((move, key))
            position.moves = moves
        return position.moves

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes % 64 == 0 and time.monotonic() >= self.deadline:
            raise OutOfTime

    # --- alpha-beta ----------------------------------------------------------

    def value(self, key: str, depth: int, alpha: int, beta: int) -> tuple[int, bool]:
        """The value of the non-terminal position ``key`` for its mover,
        within (``alpha``, ``beta``), and whether no horizon was reached."""
        self.tick()
        entry = self.table.get(key)
        if (
            entry is not None
            and (entry.settled or entry.depth >= depth)
            and (
                entry.flag == EXACT
                or (entry.flag == LOWER and entry.value >= beta)
                or (entry.flag == UPPER and entry.value <= alpha)
            )
        ):
            return entry.value, entry.settled
        position = self.positions[key]
        if depth <= 0 or len(position.turn) != 1:
            return UNDECIDED, False
        mover = position.turn[0]
        moves = self.expand(position)
        order = list(range(len(moves)))
        if entry is not None and entry.best < len(moves):
            order.remove(entry.best)
            order.insert(0, entry.best)
        start_alpha, best, best_index, settled = alpha, LOSS - 1, order[0], True
        for index in order:
            score, child_settled = self.child_value(moves[index][1], mover, depth - 1, alpha, beta)
            settled = settled and child_settled
            if score > best:
                best, best_index = score, index
            alpha = max(alpha, score)
            if alpha >= beta:
                break
        flag = UPPER if best <= start_alpha else LOWER if best >= beta else EXACT
        # A win or a loss is proven whatever the horizon: the window never
        # goes beyond them, so neither can be a bound short of the truth.
        settled = settled or best != UNDECIDED
        self.table[key] = Entry(best, flag, depth, settled, best_index)
        return best, settled

    def child_value(self, key: str, mover: int, depth: int, alpha: int, beta: int) -> tuple[int, bool]:
        """The value for ``mover`` of the position ``key`` it moved to."""
        child = self.positions[key]
        if not child.turn:
            return outcome_value(child.result, mover), True
        if len(child.turn) != 1:
            return UNDECIDED, False
        if child.turn[0] == mover:  # the other side was skipped: the same seat moves again
            return self.value(key, depth, alpha, beta)
        score, settled = self.value(key, depth, -beta, -alpha)
        return -score, settled

    def prove(self, root: list[RootMove]) -> None:
        """Iterative deepening over the root moves until the deadline, the
        depth limit, a proven win, or a solved position."""
        limit = self.max_depth if self.max_depth is not None else MAX_DEPTH
        for depth in range(1, limit + 1):
            for candidate in root:
                if candidate.settled or candidate.proven_at is not None:
                    continue
                score, settled = self.child_value(candidate.key, self.seat, depth - 1, LOSS, WIN)
                candidate.value, candidate.settled = score, settled or score != UNDECIDED
                if score != UNDECIDED:
                    candidate.proven_at = depth
                if score == WIN:
                    return
            self.depth_reached = depth
            if sum(candidate.value != LOSS for candidate in root) <= 1:
                return
            if all(candidate.settled for candidate in root):
                self.solved = True
                return

    # --- Monte Carlo tree search ---------------------------------------------

    def playout(self, state: State) -> int | None:
        """The winner of a random game from ``state`` (``None``: a draw)."""
        game, rng = self.game, self.rng
        turn = game.turn(state)
        for _ in range(MAX_PLAYOUT_PLIES):
            if not turn:
                result = game.result(state)
                return None if result is None else result.winner
            mover = turn[0]
            move = game.random_move(state, mover, rng)
            if move is None:
                return None
            state = game.apply_move(state, mover, game.parse_move(move))
            turn = game.turn(state)
        return None

    def monte_carlo_choice(self, candidates: list[RootMove]) -> RootMove:
        """The candidate visited most by UCT until the deadline."""
        root = _Node(self.game, self.state, None, None)
        root.untried = [(candidate.move, self.positions[candidate.key].state) for candidate in candidates]
        self.rng.shuffle(root.untried)
        by_move = {position_key(candidate.move): candidate for candidate in candidates}
        while time.monotonic() < self.deadline:
            node = root
            path = [node]
            while not node.untried and node.children:
                node = node.select()
                path.append(node)
            if node.untried:
                move, state = node.untried.pop()
                node = node.add(self.game, move, state)
                path.append(node)
            winner = self.playout(node.state) if node.turn else node.winner
            self.playouts += 1
            for visited in path:
                visited.visits += 1
                if visited.moved_by is not None:
                    visited.wins += 0.5 if winner is None else 1.0 if winner == visited.moved_by else 0.0
        if not root.children:
            return self.rng.choice(candidates)
        best = max(root.children, key=lambda child: (child.visits, child.wins))
        assert best.move is not None  # every child of the root came from a move
        return by_move[position_key(best.move)]

    # --- the decision ----------------------------------------------------------

    def best_move(self) -> MoveJson | None:
        """The move to play; ``None`` when ``seat`` has none."""
        key = position_key(self.state)
        position = self.position(key, self.state)
        if self.seat not in position.turn:
            return None
        if len(position.turn) != 1:  # a simultaneous phase: no search
            return self.game.random_move(self.state, self.seat, self.rng)
        start = time.monotonic()
        proving_deadline = start + (self.deadline - start) / 2 if self.monte_carlo else self.deadline
        real_deadline, self.deadline = self.deadline, proving_deadline
        try:
            root = [RootMove(move, child) for move, child in self.expand(position)]
        except OutOfTime:
            return self.game.random_move(self.state, self.seat, self.rng)
        if not root:
            return None
        with contextlib.suppress(OutOfTime):
            self.prove(root)
        self.deadline = real_deadline
        return self.choose(root).move

    def choose(self, root: list[RootMove]) -> RootMove:
        wins = [candidate for candidate in root if candidate.value == WIN]
        if wins:
            return self.pick(wins, min(candidate.proven_at or 0 for candidate in wins))
        alive = [candidate for candidate in root if candidate.value != LOSS]
        if not alive:
            return self.pick(root, max(candidate.proven_at or 0 for candidate in root))
        if len(alive) == 1 or self.solved or not self.monte_carlo:
            return self.rng.choice(alive)
        return self.monte_carlo_choice(alive)

    def pick(self, candidates: list[RootMove], depth: int) -> RootMove:
        return self.rng.choice([candidate for candidate in candidates if candidate.proven_at == depth])


def outcome_value(result: Result | None, seat: int) -> int:
    """A finished game's value for ``seat``."""
    if result is None or result.winner is None:
        return UNDECIDED
    return WIN if result.winner == seat else LOSS


class _Node:
    """A node of the Monte Carlo tree: ``wins`` counts for ``moved_by``, the
    seat whose move led here; ``untried`` are its moves not expanded yet,
    with the position each leads to when it is already known."""

    __slots__ = ("children", "move", "moved_by", "state", "turn", "untried", "visits", "winner", "wins")

    def __init__(self, game: Game, state: State, move: MoveJson | None, moved_by: int | None) -> None:
        self.state, self.move, self.moved_by = state, move, moved_by
        self.turn = game.turn(state)
        self.winner: int | None = None
        if not self.turn:
            result = game.result(state)
            self.winner = None if result is None else result.winner
        self.untried: list[tuple[MoveJson, State | None]] = []
        if self.turn and move is not None:
            self.untried = [(option, None) for option in game.legal_moves(state, self.turn[0])]
        self.children: list[_Node] = []
        self.visits = 0
        self.wins = 0.0

    def add(self, game: Game, move: MoveJson, state: State | None) -> _Node:
        mover = self.turn[0]
        if state is None:
            state = game.apply_move(self.state, mover, game.parse_move(move))
        child = _Node(game, state, move, mover)
        self.children.append(child)
        return child

    def select(self) -> _Node:
        log_visits = math.log(self.visits)
        return max(
            self.children,
            key=lambda child: child.wins / child.visits + EXPLORATION * math.sqrt(log_visits / child.visits),
        )
