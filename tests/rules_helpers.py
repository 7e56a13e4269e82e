"""Helpers for the rules tests: play JSON moves as the engine does (parse,
then apply), and check a game's ``legal_moves`` against its ``apply_move``;
for real-time games, random inputs logged tick by tick as a loop logs them."""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterable
from typing import Any

from games.engine import Game, IllegalMove, State
from games.engine.realtime import RealtimeGame

#: A real-time match's log as its loop writes it: (tick, [(seat, input), ...]).
Ticks = list[tuple[int, list[tuple[int, dict[str, Any]]]]]


def apply(game: Game, state: State, seat: int, move: Any) -> State:
    """``move`` (JSON, as a client sends it) played as the engine plays it."""
    return game.apply_move(state, seat, game.parse_move(move))


def refusal(game: Game, state: State, seat: int, move: Any) -> str:
    """Why the engine refuses ``move`` (the test fails if it is accepted)."""
    try:
        apply(game, state, seat, move)
    except IllegalMove as refused:
        return refused.reason
    raise AssertionError(f"{move!r} was accepted")


def accepted(game: Game, state: State, seat: int, move: Any) -> bool:
    try:
        apply(game, state, seat, move)
    except IllegalMove:
        return False
    return True


def check_legal_moves(game: Game, state: State, candidates: Iterable[Any], limit: int | None = None) -> None:
    """For every seat: each move ``legal_moves`` yields (the first ``limit``)
    is accepted, twice over yields the same moves in the same order, and
    every candidate it does not yield is refused. Nothing for a seat not in
    ``turn``; ``random_move`` picks one it accepts."""
    before = copy.deepcopy(state)
    candidates = list(candidates)
    for seat in range(game.max_players):
        listed = list(itertools.islice(game.legal_moves(state, seat), limit))
        assert listed == list(itertools.islice(game.legal_moves(state, seat), limit)), "a fixed order"
        if seat not in game.turn(state):
            assert listed == [] and game.random_move(state, seat, random.Random(0)) is None
            continue
        assert listed, "a seat in turn has a move"
        for move in listed:
            assert accepted(game, state, seat, move), f"legal_moves yielded {move!r}, which is refused"
        chosen = game.random_move(state, seat, random.Random(seat))
        assert chosen is not None and accepted(game, state, seat, chosen)
        if limit is None:
            assert len({repr(move) for move in listed}) == len(listed), "each move once"
            for move in candidates:
                if move not in listed:
                    assert not accepted(game, state, seat, move), f"{move!r} is accepted but not listed"
    assert state == before, "listing moves changes nothing"


def random_playout(
    game: Game, seed: int, seats: int = 2, options: dict[str, Any] | None = None, limit: int = 1000
) -> list[tuple[int, dict[str, Any]]]:
    """A whole random game as ``(seat, move)`` pairs, chosen with the game's
    own ``random_move`` (seeded: the same game every time), up to its end or
    ``limit`` moves."""
    rng = random.Random(seed)
    state = game.initial_state(seats, options or {})
    played = []
    while game.turn(state) and len(played) < limit:
        seat = rng.choice(game.turn(state))
        move = game.random_move(state, seat, rng)
        assert move is not None, f"{game.slug}: seat {seat} is to move but has no move"
        state = apply(game, state, seat, move)
        played.append((seat, move))
    return played


def states_of(game: Game, played: list[tuple[int, dict[str, Any]]], seats: int = 2) -> list[State]:
    """The state after each move of ``played``."""
    state, states = game.initial_state(seats, {}), []
    for seat, move in played:
        state = apply(game, state, seat, move)
        states.append(state)
    return states


def run_tick(game: RealtimeGame, state: State, tick: int, inputs: list[tuple[int, dict[str, Any]]]) -> State:
    """Tick ``tick`` with ``inputs`` (JSON, in arrival order) parsed as the engine parses them."""
    by_seat: dict[int, list[Any]] = {}
    for seat, sent in inputs:
        by_seat.setdefault(seat, []).append(game.parse_move(sent))
    return game.apply_tick(state, tick, by_seat)


def random_ticks(
    game: RealtimeGame, seed: int, seats: int = 2, options: dict[str, Any] | None = None, limit: int = 1000
) -> Ticks:
    """A whole random real-time match as its loop logs it: each tick that
    had inputs, and the one that ended it. Each seat in play sends one of
    its legal inputs (the game's ``random_move``) on about a quarter of the
    ticks; seeded: the same match every time; up to ``limit`` ticks."""
    rng = random.Random(seed)
    state, logged = game.initial_state(seats, options or {}), []
    while game.tick_result(state) is None and state["tick"] < limit:
        tick = state["tick"] + 1
        inputs = [(seat, game.random_move(state, seat, rng)) for seat in game.turn(state) if rng.random() < 0.25]
        sent = [(seat, move) for seat, move in inputs if move is not None]
        state = run_tick(game, state, tick, sent)
        if sent or game.tick_result(state) is not None:
            logged.append((tick, sent))
    return logged


def tick_states(
    game: RealtimeGame, logged: Ticks, seats: int = 2, options: dict[str, Any] | None = None
) -> list[State]:
    """The state after each logged tick (the ticks between, without inputs, run too)."""
    state, states = game.initial_state(seats, options or {}), []
    for tick, inputs in logged:
        while state["tick"] < tick - 1:
            state = game.apply_tick(state, state["tick"] + 1, {})
        state = run_tick(game, state, tick, inputs)
        states.append(state)
    return states
