"""Property-based tests (hypothesis): random legal play of every game never
breaks an invariant; random illegal or malformed moves are always refused
with a clear reason and change nothing; the engine's fold over random action
sequences always equals its own replay."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import chess
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games import timeline
from games.errors import GameError
from games.rules import GAMES, IllegalMove
from games.rules.battleship import FLEET, SIZE

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def legal_moves(slug: str, state: dict, seat: int, data: st.DataObject) -> dict:
    """Draw one legal move for ``seat`` (test-side move generation)."""
    if slug == "tictactoe":
        return {"cell": data.draw(st.sampled_from([i for i, c in enumerate(state["board"]) if c is None]))}
    if slug == "connect4":
        return {"column": data.draw(st.sampled_from([i for i, c in enumerate(state["columns"]) if len(c) < 6]))}
    if slug == "chess":
        board = chess.Board(state["start"] or chess.STARTING_FEN)
        for uci in state["uci"]:
            board.push_uci(uci)
        return {"uci": data.draw(st.sampled_from(sorted(m.uci() for m in board.legal_moves)))}
    if state["fleets"][seat] is None:
        return {"fleet": data.draw(fleets())}
    shot = {(r, c) for r, c, _ in state["shots"][seat]}
    return {
        "shot": list(
            data.draw(st.sampled_from([(r, c) for r in range(SIZE) for c in range(SIZE) if (r, c) not in shot]))
        )
    }


@st.composite
def fleets(draw: Any) -> list[dict]:
    placed: list[dict] = []
    taken: set[tuple[int, int]] = set()
    for size in FLEET:
        options = []
        for direction, (dr, dc) in (("right", (0, 1)), ("down", (1, 0))):
            for row in range(SIZE):
                for col in range(SIZE):
                    cells = {(row + dr * i, col + dc * i) for i in range(size)}
                    if all(r < SIZE and c < SIZE for r, c in cells) and not cells & taken:
                        options.append(({"row": row, "col": col, "size": size, "dir": direction}, cells))
        ship, cells = draw(st.sampled_from(options))
        placed.append(ship)
        taken |= cells
    return placed


def check_invariants(slug: str, state: dict) -> None:
    game = GAMES[slug]
    json.dumps(state)  # states are JSON data
    check_against_an_independent_count(slug, state)
    result, turn = game.result(state), game.turn(state)
    assert (result is None) == bool(turn), "a game is over exactly when nobody is to move"
    assert set(turn) <= {0, 1}
    if result is not None:
        assert result.winner in (None, 0, 1) and result.reason
    for viewer in (0, 1, None):
        view = game.view(state, viewer)
        json.dumps(view)
        if slug == "battleship" and result is None:
            assert all(fleet is None for owner, fleet in enumerate(view["fleets"]) if owner != viewer)


def check_against_an_independent_count(slug: str, state: dict) -> None:
    """What each game's state must satisfy, counted without its rules."""
    if slug == "tictactoe":
        assert state["board"].count("X") - state["board"].count("O") in (0, 1)
    elif slug == "connect4":
        discs = [d for column in state["columns"] for d in column]
        assert discs.count("R") - discs.count("Y") in (0, 1) and all(len(c) <= 6 for c in state["columns"])
    elif slug == "chess":
        board = chess.Board()
        for uci in state["uci"]:
            board.push_uci(uci)
        assert state["fen"] == board.fen() and len(state["san"]) == len(state["uci"])
    else:
        assert len(state["shots"][0]) - len(state["shots"][1]) in (0, 1)
        for shooter in (0, 1):
            fleet = state["fleets"][1 - shooter] or []
            cells = {tuple(cell) for ship in fleet for cell in ship}
            assert all(hit == ((r, c) in cells) for r, c, hit in state["shots"][shooter])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slug=st.sampled_from(sorted(GAMES)), data=st.data())
def test_random_legal_play_keeps_every_invariant(slug: str, data: st.DataObject) -> None:
    game = GAMES[slug]
    state = game.initial_state(2, {})
    for _ in range(data.draw(st.integers(1, 120))):
        turn = game.turn(state)
        if not turn:
            break
        seat = data.draw(st.sampled_from(turn))
        move = legal_moves(slug, state, seat, data)
        old, snapshot = state, copy.deepcopy(state)
        state = game.apply_move(old, seat, move)
        assert old == snapshot, "apply_move must not mutate the state it is given"
        assert state != snapshot
        check_invariants(slug, state)


# The games' own keys with garbage values, so the rules' value checks are hit,
# not only their "wrong shape" checks.
REAL_KEYS = ["cell", "column", "uci", "claim_draw", "shot", "fleet"]
SCALARS = (
    st.none() | st.booleans() | st.integers(-10, 110) | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=6) | st.sampled_from(["e2e4", "g1f3", "e2e5", "e7e8q", "a1a8", "E2E4"])
)  # fmt: skip
VALUES = SCALARS | st.lists(SCALARS, max_size=3) | JSON
MOVES = JSON | st.dictionaries(st.sampled_from(REAL_KEYS), VALUES, min_size=1, max_size=2)


OWN_KEYS = {"tictactoe": "cell", "connect4": "column", "chess": "uci", "battleship": "shot"}


@pytest.mark.parametrize("slug", sorted(GAMES))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seat=st.integers(-2, 3), data=st.data())
def test_random_garbage_is_refused_and_changes_nothing(slug: str, seat: int, data: st.DataObject) -> None:
    game = GAMES[slug]
    move = data.draw(MOVES | st.fixed_dictionaries({OWN_KEYS[slug]: VALUES}))
    state = game.initial_state(2, {})
    for _ in range(data.draw(st.integers(0, 6))):  # from a few positions into the game
        if not game.turn(state):
            break
        mover = game.turn(state)[0]
        state = game.apply_move(state, mover, legal_moves(slug, state, mover, data))
    if data.draw(st.booleans()) and game.turn(state):
        seat = data.draw(st.sampled_from(game.turn(state)))  # often the right seat, so the move itself is judged
    before = copy.deepcopy(state)
    legal = is_legal(slug, before, seat, move)
    try:
        after = game.apply_move(state, seat, move)
    except IllegalMove as refusal:
        assert isinstance(refusal.reason, str) and refusal.reason
        assert state == before
        assert legal is not True, f"refused a legal move {move!r}: {refusal.reason}"
        return
    assert legal is not False, f"accepted an illegal move {move!r}"
    check_invariants(slug, after)


def is_legal(slug: str, state: dict, seat: Any, move: Any) -> bool | None:
    """An oracle written without the rules modules: whether ``move`` is legal
    (``None`` where it does not judge: battleship fleets, chess draw claims)."""
    game = GAMES[slug]
    if seat not in game.turn(state):
        return False
    if slug == "tictactoe":
        return _exactly(move, "cell") and 0 <= move["cell"] <= 8 and state["board"][move["cell"]] is None
    if slug == "connect4":
        return _exactly(move, "column") and 0 <= move["column"] <= 6 and len(state["columns"][move["column"]]) < 6
    if slug == "chess":
        if not isinstance(move, dict) or set(move) != {"uci"}:
            return None if isinstance(move, dict) and "claim_draw" in move else False
        board = chess.Board()
        for uci in state["uci"]:
            board.push_uci(uci)
        return isinstance(move["uci"], str) and move["uci"] in {m.uci() for m in board.legal_moves}
    if state["fleets"][seat] is None:
        return None if isinstance(move, dict) and set(move) == {"fleet"} else False
    if not isinstance(move, dict) or set(move) != {"shot"}:
        return False
    shot = move["shot"]
    if not (isinstance(shot, list) and len(shot) == 2 and all(_integer(v) for v in shot)):
        return False
    return (
        0 <= shot[0] < SIZE
        and 0 <= shot[1] < SIZE
        and all(r != shot[0] or c != shot[1] for r, c, _ in state["shots"][seat])
    )


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _exactly(move: Any, key: str) -> bool:
    return isinstance(move, dict) and set(move) == {key} and _integer(move[key])


def at(seconds: float) -> str:
    return timeline.format_time(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_clocks_match_an_independent_model(data: st.DataObject) -> None:
    """Random actions (legal or not) at random times on a clocked tic-tac-toe
    match. Refused actions change nothing; accepted ones advance seq by one;
    each clock equals a model kept here from the event times alone: initial
    time, plus the increment per own move, minus the time its side was to
    move; a flag leaves exactly zero. And the log replays to the same match."""
    initial_ms, increment_ms = 30_000, 1_000
    options = timeline.validate_options("tictactoe", {"clock": {"initial": 30, "increment": 1}, "move_timeout": 20})
    players = {s: {"seat": s, "id": s + 1, "name": f"p{s}", "connected": True, "left_at": None} for s in (0, 1)}
    start = timeline.initial(1, "tictactoe", 2, options)
    data_now, log, clock = start, [], 0.0
    model = [initial_ms, initial_ms]
    last_charge: float | None = None
    for seat in (0, 1):
        event = {"seq": len(log) + 1, "kind": "join", "seat": seat, "move": None, "at": at(clock)}
        data_now = timeline.advance(data_now, event, players[seat])
        log.append(event)
    last_charge = clock

    def to_move(state: dict) -> int:  # X moves when the marks are even, counted here
        return sum(cell is not None for cell in state["board"]) % 2

    for _ in range(data.draw(st.integers(1, 25))):
        clock += data.draw(st.floats(0, 8))
        due = timeline.overdue(data_now, timeline.parse_time(at(clock)))
        if due is not None:  # what the service does first, under the same lock
            event = {"seq": len(log) + 1, "kind": due[0], "seat": None, "move": {"seats": due[1]}, "at": at(clock)}
            mover = to_move(data_now["state"])
            data_now = timeline.advance(data_now, event)
            log.append(event)
            assert data_now["status"] == "finished" and data_now["result"]["reason"] == "timeout"
            assert due[1] == [mover]
            model[mover] -= round((clock - last_charge) * 1000)
            assert data_now["clock"]["remaining"][mover] == max(0, model[mover])
            break
        kind = data.draw(st.sampled_from(["move", "move", "move", "resign", "offer_draw", "accept_draw", "rematch"]))
        seat = data.draw(st.sampled_from([0, 1]))
        move = {"cell": data.draw(st.integers(-1, 9))} if kind == "move" else None
        event = {"seq": len(log) + 1, "kind": kind, "seat": seat, "move": move, "at": at(clock)}
        before = copy.deepcopy(data_now)
        try:
            data_now = timeline.advance(data_now, event)
        except GameError as refusal:
            assert refusal.code in {"not_your_turn", "illegal_move", "match_not_active", "draw_not_allowed",
                                    "no_draw_offer", "rematch_requested"}  # fmt: skip
            assert data_now == before
            continue
        assert data_now["seq"] == before["seq"] + 1
        log.append(event)
        if before["status"] == "active":
            model[to_move(before["state"])] -= round((clock - last_charge) * 1000)
            last_charge = clock
            if kind == "move":
                model[seat] += increment_ms
        assert data_now["clock"]["remaining"] == model
    replayed = list(timeline.replay(start, log, players))
    assert replayed[-1][1] == data_now


def test_simultaneous_turns_charge_every_running_clock() -> None:
    """Battleship's setup: both seats are to move, so both clocks run; a seat
    that has placed its fleet stops being charged."""
    options = timeline.validate_options("battleship", {"clock": {"initial": 60, "increment": 0}})
    data_now = timeline.initial(1, "battleship", 2, options)
    for seat in (0, 1):
        player = {"seat": seat, "id": seat + 1, "name": "p", "connected": True, "left_at": None}
        data_now = timeline.advance(data_now, {"seq": seat + 1, "kind": "join", "seat": seat, "move": None,
                                               "at": at(0)}, player)  # fmt: skip
    fleet = {"fleet": [{"row": r * 2, "col": 0, "size": size, "dir": "right"} for r, size in enumerate(FLEET)]}
    data_now = timeline.advance(data_now, {"seq": 3, "kind": "move", "seat": 1, "move": fleet, "at": at(5)})
    assert data_now["clock"]["remaining"] == [55_000, 55_000]
    assert timeline.remaining_ms(data_now, timeline.parse_time(at(8))) == [52_000, 55_000]
    data_now = timeline.advance(data_now, {"seq": 4, "kind": "move", "seat": 0, "move": fleet, "at": at(9)})
    assert data_now["clock"]["remaining"] == [51_000, 55_000]
