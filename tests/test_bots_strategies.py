"""The bots' strategies, pure Python: how well each level plays, that every
game is played at every level, and that hidden information stays hidden.
A real-time game's computer player is its own ``bot_input``, asked by the
match's loop every tick (whatever the level): it plays every one of those."""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator

import pytest

from bots.levels import LEVELS, Level
from bots.strategies import GENERIC_SEARCH, RANDOM, choose, plan
from classic_games.chess_bot import ChessStrategy
from games.engine import Game, State, all_games, get_game
from games.engine.game import MoveJson
from games.engine.realtime import RealtimeGame

STOCKFISH = "/usr/games/stockfish"
# The exhaustive proof gives the top level all the time it wants: it stops as
# soon as the position is solved (well under a second here), so a loaded
# machine cannot turn a time limit into a loss.
PROOF_BUDGET = 60.0


def play(game: Game, state: State, seat: int, move: MoveJson) -> State:
    return game.apply_move(state, seat, game.parse_move(move))


def decide(game: Game, state: State, seat: int, level: Level, seed: int, budget: float | None = None) -> MoveJson:
    move = choose(plan(game, level), game, state, seat, level, seed, level.budget if budget is None else budget)
    assert move is not None
    return move


def every_line(game: Game, state: State, bot_seat: int, budget: float) -> Iterator[State]:
    """Every finished game from ``state`` with the top level in ``bot_seat``
    and every possible reply of the opponent, as its final state."""
    if game.result(state) is not None:
        yield state
        return
    seat = game.turn(state)[0]
    if seat == bot_seat:
        yield from every_line(
            game, play(game, state, seat, decide(game, state, seat, LEVELS[3], 1, budget)), bot_seat, budget
        )
        return
    for move in game.legal_moves(state, seat):
        yield from every_line(game, play(game, state, seat, move), bot_seat, budget)


@pytest.mark.parametrize("bot_seat", [0, 1])
def test_the_top_level_never_loses_tictactoe_whatever_the_opponent_plays(bot_seat: int) -> None:
    game = get_game("tictactoe")
    finals = list(every_line(game, game.initial_state(2, {}), bot_seat, PROOF_BUDGET))
    results = [game.result(final) for final in finals]
    lost = [
        final["board"]
        for final, result in zip(finals, results, strict=True)
        if result and result.winner == 1 - bot_seat
    ]
    assert not lost, f"lost {len(lost)} lines, e.g. {lost[0]}"
    assert len(finals) >= (60 if bot_seat == 0 else 500)  # every opponent line was played out
    assert any(result and result.winner == bot_seat for result in results)  # and it punishes mistakes


def test_the_top_level_beats_the_random_bot_at_connect_four() -> None:
    """A fair fight: with a fifth of a second a move, the top level wins at
    least 9 games of 10 against random moves, from either seat."""
    game, rng, wins = get_game("connect4"), random.Random(4), 0
    for index in range(10):
        bot_seat, state = index % 2, game.initial_state(2, {})
        while game.result(state) is None:
            seat = game.turn(state)[0]
            if seat == bot_seat:
                move = decide(game, state, seat, LEVELS[3], index * 1000 + len(str(state)), budget=0.2)
            else:
                move = decide(game, state, seat, LEVELS[1], rng.randrange(10**9))
            state = play(game, state, seat, move)
        result = game.result(state)
        wins += result is not None and result.winner == bot_seat
    assert wins >= 9


def columns(*moves: int) -> State:
    game = get_game("connect4")
    state = game.initial_state(2, {})
    for column in moves:
        state = play(game, state, game.turn(state)[0], {"column": column})
    return state


@pytest.mark.parametrize("level", [2, 3])
def test_the_searching_levels_take_a_win_and_block_a_loss_in_one(level: int) -> None:
    game = get_game("connect4")
    # Red (seat 0) has three in the bottom row (columns 0-2) and is to move: it wins in column 3.
    winning = columns(0, 6, 1, 6, 2, 5)
    # Yellow (seat 1) to move must block column 3.
    blocking = columns(0, 6, 1, 6, 2)
    for seed in range(5):
        assert decide(game, winning, 0, LEVELS[level], seed) == {"column": 3}
        assert decide(game, blocking, 1, LEVELS[level], seed) == {"column": 3}


def test_the_random_level_does_not_block() -> None:
    """Level 1 really is random: it blocks only as often as chance says."""
    game, blocking = get_game("connect4"), columns(0, 6, 1, 6, 2)
    choices = {decide(game, blocking, 1, LEVELS[1], seed)["column"] for seed in range(60)}
    assert len(choices) >= 5


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("slug", [game.slug for game in all_games() if not isinstance(game, RealtimeGame)])
def test_every_level_plays_every_game(slug: str, level: int) -> None:
    """Two bots of a level play every registered game, legal moves only, to
    its end or for 60 moves (a twentieth of a second a move)."""
    game = get_game(slug)
    state = game.initial_state(game.min_players, {})
    for ply in range(60):
        if game.result(state) is not None:
            break
        seat = game.turn(state)[0]
        state = play(game, state, seat, decide(game, state, seat, LEVELS[level], ply, budget=0.05))
    assert ply >= 4


@pytest.mark.parametrize("slug", [game.slug for game in all_games() if isinstance(game, RealtimeGame)])
def test_the_computer_plays_every_real_time_game_by_its_bot_input(slug: str) -> None:
    """Computer players in every seat, asked every tick as the loop asks
    them, send only inputs the game's Move accepts, quickly, and outlast a
    few ticks (they steer away from trouble, at least at first)."""
    game = get_game(slug)
    assert isinstance(game, RealtimeGame)
    rng = random.Random(1)
    state = game.initial_state(game.max_players, {})
    sent = 0
    while game.tick_result(state) is None and state["tick"] < 200:
        inputs: dict[int, list] = {}
        for seat in game.turn(state):
            started = time.perf_counter()
            move = game.bot_input(state, seat, rng)
            assert time.perf_counter() - started < 0.005, "asked every tick: it must be quick"
            if move is not None:
                inputs[seat] = [game.parse_move(move)]
                sent += 1
        state = game.apply_tick(state, state["tick"] + 1, inputs)
    assert state["tick"] >= 10 and sent > 0


def test_a_games_app_registers_its_own_strategy_and_the_rest_search_generically() -> None:
    """classic_games' bot_strategies module, found at startup, gives chess its
    engine-backed strategy; games without one get the generic search."""
    assert plan(get_game("chess"), LEVELS[3]).factory == "classic_games.chess_bot:ChessStrategy"
    assert plan(get_game("connect4"), LEVELS[3]) == GENERIC_SEARCH
    assert plan(get_game("chess"), LEVELS[1]) == RANDOM


def test_hidden_information_is_never_searched_and_never_read() -> None:
    """Battleship: every level plays its own seat's random legal moves, and
    its choice is the same whatever the opponent's hidden fleet is."""
    game = get_game("battleship")
    for level in LEVELS.values():
        assert plan(game, level) == RANDOM
    start = game.initial_state(2, {})
    fleet = decide(game, start, 0, LEVELS[3], 1)
    assert play(game, start, 0, fleet)["fleets"][0] is not None  # the setup is answered with a legal fleet
    ours = play(game, start, 0, fleet)
    one = play(game, ours, 1, decide(game, ours, 1, LEVELS[1], 2))
    other = play(game, ours, 1, decide(game, ours, 1, LEVELS[1], 3))
    assert one["fleets"][1] != other["fleets"][1]
    assert game.view(one, 0) == game.view(other, 0)  # seat 0 sees the same...
    for level in LEVELS.values():
        for seed in range(5):
            # ...so it shoots at the same cells in both worlds.
            assert decide(game, one, 0, level, seed) == decide(game, other, 0, level, seed)


# --- chess -------------------------------------------------------------------

MATE_IN_ONE = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"  # Ra8#


def chess_game_between(
    white: ChessStrategy | None, black: ChessStrategy | None, seconds: float | tuple[float, float]
) -> State:
    """A game of chess (``None``: random moves; ``seconds`` a move, or per
    side), at most 200 plies."""
    per_side = seconds if isinstance(seconds, tuple) else (seconds, seconds)
    game, rng = get_game("chess"), random.Random(5)
    state = game.initial_state(2, {})
    for ply in range(200):
        if game.result(state) is not None:
            break
        seat = game.turn(state)[0]
        player = (white, black)[seat]
        if player is None:
            move = game.random_move(state, seat, rng)
        else:
            move = player.choose(game, state, seat, LEVELS[3], random.Random(ply), _deadline(per_side[seat]))
        assert move is not None
        state = play(game, state, seat, move)
    return state


def _deadline(seconds: float) -> float:
    return time.monotonic() + seconds


def test_the_built_in_chess_search_mates_in_one_and_beats_random_moves() -> None:
    game = get_game("chess")
    builtin = ChessStrategy(engine="")
    state = game.initial_state(2, {"fen": MATE_IN_ONE})
    for level in (2, 3):
        assert builtin.choose(game, state, 0, LEVELS[level], random.Random(1), _deadline(5)) == {"uci": "a1a8"}
    final = chess_game_between(None, builtin, 0.3)
    result = game.result(final)
    assert result is not None and result.winner == 1, result


requires_stockfish = pytest.mark.skipif(
    not shutil.which(STOCKFISH) and not os.environ.get("CI"),
    reason=f"the UCI path needs {STOCKFISH} (apt-get install stockfish; .ci/run installs it)",
)


@requires_stockfish
def test_the_uci_engine_plays_the_searching_levels_and_crushes_the_built_in_search() -> None:
    """With CHESS_ENGINE set, the searching levels play Stockfish's moves:
    as black, a twentieth of a second a move, it beats the built-in search
    given four times as long."""
    assert shutil.which(STOCKFISH), f"{STOCKFISH} is missing: .ci/run installs Debian's stockfish package"
    game = get_game("chess")
    engine = ChessStrategy(engine=STOCKFISH)
    try:
        state = game.initial_state(2, {"fen": MATE_IN_ONE})
        assert engine.choose(game, state, 0, LEVELS[3], random.Random(1), _deadline(5)) == {"uci": "a1a8"}
        final = chess_game_between(ChessStrategy(engine=""), engine, (0.2, 0.05))
        result = game.result(final)
        assert result is not None and result.winner == 1, (result, final["san"])
        assert engine.engine is not None  # one engine process served the whole game
    finally:
        engine.close()


def test_a_uci_engine_that_cannot_start_falls_back_to_the_built_in_search() -> None:
    game = get_game("chess")
    broken = ChessStrategy(engine="/nonexistent/engine")
    state = game.initial_state(2, {"fen": MATE_IN_ONE})
    assert broken.choose(game, state, 0, LEVELS[3], random.Random(1), _deadline(5)) == {"uci": "a1a8"}
