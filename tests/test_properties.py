"""Property-based tests (hypothesis) of every registered game, whatever app
it comes from: random legal play (the game's own ``random_move``) never
breaks an invariant; garbage moves are always refused with a reason and
change nothing; a move hidden from a viewer tells that viewer nothing; and
the engine's fold over random action sequences always equals its own replay.

Nothing here names a game: a game's own scenarios belong in its rules tests.

A real-time game's "move" here is an input: applied at the next tick (see
:func:`play`); it has no clock (its ticks are the clock), so the clock tests
take the turn-based games, and its log of ticks folds like its loop runs.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from games.engine import Game, IllegalMove, State, all_games, get_game
from games.engine.clocks import format_time, overdue, parse_time, remaining_ms
from games.engine.errors import GameError
from games.engine.fold import advance, initial, replay
from games.engine.options import validate_options
from games.engine.realtime import RealtimeGame
from tests.rules_helpers import random_ticks, tick_states

SLUGS = [game.slug for game in all_games()]
TURN_BASED = [game.slug for game in all_games() if not isinstance(game, RealtimeGame)]
REAL_TIME = [game.slug for game in all_games() if isinstance(game, RealtimeGame)]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SCALARS = (
    st.none() | st.booleans() | st.integers(-10, 110) | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
)
VALUES = SCALARS | st.lists(SCALARS, max_size=3) | JSON


def play(game: Game, state: State, seat: int, move: Any) -> State:
    """``move`` played as the engine plays it: parsed, then applied; for a
    real-time game, the next tick with ``move`` as the seat's one input."""
    parsed = game.parse_move(move)
    if isinstance(game, RealtimeGame):
        return game.apply_tick(state, state["tick"] + 1, {seat: [parsed]})
    return game.apply_move(state, seat, parsed)


def seat_counts(game: Game) -> list[int]:
    return list(range(game.min_players, min(game.max_players, game.min_players + 2) + 1))


def viewers(seats: int) -> list[int | None]:
    return [*range(seats), None]


def check_invariants(game: Game, state: State, seats: int) -> None:
    assert json.loads(json.dumps(state)) == state, "a state is JSON data (it is stored as JSON)"
    result, turn = game.result(state), game.turn(state)
    assert (result is None) == bool(turn), "a game is over exactly when nobody is to move"
    assert len(set(turn)) == len(turn) and set(turn) <= set(range(seats))
    if result is not None:
        assert result.winner is None or result.winner in range(seats)
        assert isinstance(result.reason, str) and result.reason
    for viewer in viewers(seats):
        json.dumps(game.view(state, viewer))
    for seat in range(seats):
        first = next(game.legal_moves(state, seat), None)
        if seat in turn:
            assert first is not None, f"seat {seat} is to move but has no legal move"
        else:
            assert first is None and game.random_move(state, seat, random.Random(0)) is None


def check_hidden_moves_tell_nothing(game: Game, state: State, seat: int, move: dict, after: State, rng: Any) -> None:
    """Whenever ``move`` is hidden from a viewer (its ``view_move`` differs
    from it), that viewer's view and the move it is shown are the same as
    after any other hidden move ``seat`` could have played instead."""
    for viewer in viewers(game.max_players):
        if viewer == seat or game.view_move(after, move, seat, viewer) == move:
            continue
        for _ in range(3):
            other = game.random_move(state, seat, rng)
            other_after = play(game, state, seat, other)
            shown = game.view_move(other_after, other, seat, viewer)
            if other == move or shown == other:
                continue  # not hidden: its consequences may show
            assert game.view(other_after, viewer) == game.view(after, viewer), f"a hidden move shows to {viewer}"
            assert shown == game.view_move(after, move, seat, viewer)


@pytest.mark.parametrize("slug", SLUGS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_legal_play_keeps_every_invariant(slug: str, data: st.DataObject) -> None:
    game = get_game(slug)
    seats = data.draw(st.sampled_from(seat_counts(game)))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    state = game.initial_state(seats, {})
    check_invariants(game, state, seats)
    for _ in range(data.draw(st.integers(1, 150))):
        turn = game.turn(state)
        if not turn:
            break
        seat = rng.choice(turn)
        move = game.random_move(state, seat, rng)
        assert move is not None and json.loads(json.dumps(move)) == move, "a move is JSON data"
        for listed in itertools.islice(game.legal_moves(state, seat), 3):
            play(game, copy.deepcopy(state), seat, listed)  # every listed move is accepted
        snapshot = copy.deepcopy(state)
        after = play(game, state, seat, move)
        assert state == snapshot, "apply_move must not change the state it is given"
        for viewer in viewers(seats):
            json.dumps(game.view_move(after, move, seat, viewer))
        if game.hidden_information:
            check_hidden_moves_tell_nothing(game, state, seat, move, after, rng)
        state = after
        check_invariants(game, state, seats)


@pytest.mark.parametrize("slug", SLUGS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_garbage_is_refused_and_changes_nothing(slug: str, data: st.DataObject) -> None:
    """Garbage for a seat that is to move (the engine refuses the others
    before the rules see them): any JSON, or the game's own move fields
    (from its Move model) with garbage values, or a legal move with one
    field changed."""
    game = get_game(slug)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    state = game.initial_state(game.min_players, {})
    for _ in range(data.draw(st.integers(0, 6))):  # from a few positions into the game
        mover = rng.choice(game.turn(state))
        after = play(game, state, mover, game.random_move(state, mover, rng))
        if not game.turn(after):
            break
        state = after
    seat = data.draw(st.sampled_from(game.turn(state)))
    fields = sorted(game.Move.model_fields)
    legal = list(itertools.islice(game.legal_moves(state, seat), 50))
    move = data.draw(
        JSON
        | st.dictionaries(st.sampled_from(fields), VALUES, min_size=1, max_size=2)
        | st.builds(
            lambda base, key, value: {**base, key: value},
            st.sampled_from(legal or [{}]),
            st.sampled_from(fields),
            VALUES,
        )
    )
    before = copy.deepcopy(state)
    try:
        after = play(game, state, seat, move)
    except IllegalMove as refusal:
        assert isinstance(refusal.reason, str) and refusal.reason
        assert state == before
        return
    assert state == before
    check_invariants(game, after, game.min_players)


@pytest.mark.parametrize("slug", SLUGS)
def test_garbage_of_every_shape_is_refused(slug: str) -> None:
    game = get_game(slug)
    state = game.initial_state(game.min_players, {})
    for garbage in (None, 1, "x", [], [1, 2], {"": 1}, {"\u0000": None}):
        with pytest.raises(IllegalMove):
            play(game, state, game.turn(state)[0], garbage)
    assert state == game.initial_state(game.min_players, {})


def at(seconds: float) -> str:
    return format_time(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))


def elapsed_ms(start: float, end: float) -> int:
    """The milliseconds between two event times, as their timestamps (to the
    microsecond) say: what the server can know."""
    return round((parse_time(at(end)) - parse_time(at(start))).total_seconds() * 1000)


def player(seat: int) -> dict[str, Any]:
    return {"seat": seat, "id": seat + 1, "name": f"p{seat}"}


@pytest.mark.parametrize("slug", TURN_BASED)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_clocks_match_an_independent_model(slug: str, data: st.DataObject) -> None:
    """Random actions (legal or not) at random times on a clocked match.
    Refused actions change nothing; accepted ones advance seq by one; each
    clock equals a model kept here from the event times alone: initial
    time, plus the increment per own move, minus the time it ran (while its
    seat was to move); a flag leaves exactly zero. And the log replays to
    the same match."""
    game = get_game(slug)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    seats = game.min_players
    initial_ms, increment_ms = 30_000, 1_000
    options = validate_options(slug, {"clock": {"initial": 30, "increment": 1}, "move_timeout": 20})
    start = initial(1, slug, seats, options)
    data_now, log, clock = start, [], 0.0
    model = [initial_ms] * seats
    for seat in range(seats):
        event = {"seq": len(log) + 1, "kind": "join", "seat": seat, "move": None, "at": at(clock)}
        data_now = advance(data_now, event, player(seat))
        log.append(event)
    last_charge = clock
    for _ in range(data.draw(st.integers(1, 25))):
        clock += data.draw(st.floats(0, 8))
        running = game.turn(data_now["state"]) if data_now["status"] == "active" else []
        due = overdue(data_now, {}, parse_time(at(clock)))
        if due is not None:  # what the service does first, under the same lock
            event = {"seq": len(log) + 1, "kind": str(due[0]), "seat": None, "move": {"seats": due[1]}, "at": at(clock)}
            data_now = advance(data_now, event)
            log.append(event)
            assert data_now["status"] == "finished" and set(due[1]) <= set(running)
            for seat in running:
                model[seat] -= elapsed_ms(last_charge, clock)
            for seat in due[1]:
                assert data_now["clock"]["remaining"][seat] == max(0, model[seat])
            break
        kind = data.draw(st.sampled_from(["move", "move", "move", "resign", "offer_draw", "accept_draw", "rematch"]))
        seat = data.draw(st.sampled_from(range(seats)))
        move = None
        if kind == "move":
            legal = game.random_move(data_now["state"], seat, rng)
            move = legal if legal is not None and data.draw(st.booleans()) else data.draw(JSON)
        event = {"seq": len(log) + 1, "kind": kind, "seat": seat, "move": move, "at": at(clock)}
        before = copy.deepcopy(data_now)
        try:
            data_now = advance(data_now, event)
        except GameError as refusal:
            assert refusal.code in {"not_your_turn", "illegal_move", "match_not_active", "draw_not_allowed",
                                    "no_draw_offer", "rematch_requested"}  # fmt: skip
            assert data_now == before
            continue
        assert data_now["seq"] == before["seq"] + 1
        log.append(event)
        if before["status"] == "active":
            for running_seat in running:
                model[running_seat] -= elapsed_ms(last_charge, clock)
            last_charge = clock
            if kind == "move":
                model[seat] += increment_ms
        assert data_now["clock"]["remaining"] == model
    replayed = list(replay(start, log, {seat: player(seat) for seat in range(seats)}))
    assert replayed[-1][1] == data_now


SIMULTANEOUS = [
    slug for slug in TURN_BASED if len(get_game(slug).turn(get_game(slug).initial_state(2, {}))) > 1
]  # turn-based games that start with several seats to move at once (a real-time game has no clock)


@pytest.mark.parametrize("slug", SIMULTANEOUS)
def test_simultaneous_turns_charge_every_running_clock(slug: str) -> None:
    """While several seats are to move, all their clocks run; a seat that
    has moved and left the turn stops being charged."""
    game = get_game(slug)
    seats = game.min_players
    data_now = initial(1, slug, seats, validate_options(slug, {"clock": {"initial": 60, "increment": 0}}))
    for seat in range(seats):
        join = {"seq": seat + 1, "kind": "join", "seat": seat, "move": None, "at": at(0)}
        data_now = advance(data_now, join, player(seat))
    running = game.turn(data_now["state"])
    mover = running[-1]
    move = game.random_move(data_now["state"], mover, random.Random(1))
    data_now = advance(data_now, {"seq": seats + 1, "kind": "move", "seat": mover, "move": move, "at": at(5)})
    assert [data_now["clock"]["remaining"][seat] for seat in running] == [55_000] * len(running)
    still = game.turn(data_now["state"])
    expected = [52_000 if seat in still else data_now["clock"]["remaining"][seat] for seat in range(seats)]
    assert remaining_ms(data_now, parse_time(at(8))) == expected


@pytest.mark.parametrize("slug", REAL_TIME)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_real_time_log_folds_to_what_its_loop_computed(slug: str, data: st.DataObject) -> None:
    """A random real-time match logged as its loop logs it (the ticks with
    inputs, and the one that ended it) folds, event by event, to the states
    the rules computed tick by tick, ends as they say, and replays to the same
    match; a tick that is not after the last one, or an input of no seat,
    is refused and changes nothing."""
    game = get_game(slug)
    assert isinstance(game, RealtimeGame)
    seats = data.draw(st.sampled_from(seat_counts(game)))
    logged = random_ticks(game, data.draw(st.integers(0, 2**32)), seats, limit=data.draw(st.integers(1, 400)))
    states = tick_states(game, logged, seats)
    start = initial(1, slug, seats, {})
    events = [{"seq": seat + 1, "kind": "join", "seat": seat, "move": None, "at": at(0)} for seat in range(seats)]
    now = start
    for event in events:
        now = advance(now, event, player(event["seat"]))
    for index, (tick, inputs) in enumerate(logged):
        move = {"tick": tick, "inputs": [[seat, sent] for seat, sent in inputs], "epoch": 1}
        event = {"seq": len(events) + 1, "kind": "ticks", "seat": None, "move": move, "at": at(tick / 20)}
        for refused in ({**move, "tick": now["state"]["tick"]}, {**move, "inputs": [[seats, {}]]}):
            with pytest.raises(GameError):
                advance(now, {**event, "move": refused})
        now = advance(now, event)
        events.append(event)
        assert now["state"] == states[index]
    ended = game.tick_result(states[-1]) if states else None
    assert (now["status"] == "finished") == (ended is not None)
    if ended is not None:
        assert now["result"] == ended.as_dict()
    assert list(replay(start, events, {seat: player(seat) for seat in range(seats)}))[-1][1] == now
