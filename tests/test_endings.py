"""Every kind of ending, for every game, reached over WebSockets: the rules'
own endings, then resignation, agreed draws, timeouts and abandonment.

A real-time game reaches its rules' own endings by the ticks its loop runs
(with the players' inputs), not by moves, and has no clock or move timeout
(its ticks are the clock): those two tests take each kind of game its own way."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from games import services
from games.engine import all_games, get_game
from games.engine.errors import GameError
from games.engine.realtime import RealtimeGame
from games.models import MatchEvent, Player
from games.realtime.supervisor import Supervisor
from tests.conftest import moves, pair, seated
from tests.rules_helpers import random_playout, states_of, tick_states

pytestmark = pytest.mark.django_db(transaction=True)

GAMES = [game.slug for game in all_games()]
TURN_BASED = [game.slug for game in all_games() if not isinstance(game, RealtimeGame)]
REAL_TIME = [game.slug for game in all_games() if isinstance(game, RealtimeGame)]


@pytest.mark.parametrize("game", TURN_BASED)
@pytest.mark.parametrize("seed", [1, 2])
async def test_the_rules_own_endings(alice: Player, bob: Player, connect: Callable, game: str, seed: int) -> None:
    """A random game played to its end over sockets ends as the rules say.
    Each game's particular endings are in its rules tests."""
    rules = get_game(game)
    played = random_playout(rules, seed)
    match_id = await seated(alice, bob, game)
    players = [alice, bob]
    for seat, move in played[:-4]:  # the opening from the services (a long game would hit the move rate limit)
        await database_sync_to_async(services.play_move)(match_id, players[seat], move)
    a, b = await pair(connect, match_id, alice, bob)
    last = await moves(a, b, played[-4:])
    expected = rules.result(states_of(rules, played)[-1])
    assert expected is not None
    assert last["match"]["result"] == expected.as_dict()
    assert last["match"]["status"] == "finished" and last["match"]["turn"] == []


@pytest.mark.parametrize("game", REAL_TIME)
@pytest.mark.parametrize("seed", [1, 2])
async def test_the_rules_own_endings_in_real_time(
    alice: Player, bob: Player, connect: Callable, supervisor: Supervisor, settings: Any, game: str, seed: int
) -> None:
    """A real-time match played over sockets to its end by its loop, each
    player sending random inputs now and then (with seed 1, none at all),
    ends as the rules say given the inputs the loop applied (its log)."""
    settings.GAMES_REALTIME_START_DELAY_MS = 100
    rules = get_game(game)
    assert isinstance(rules, RealtimeGame)
    rng = random.Random(seed)
    match_id = (await database_sync_to_async(services.create_match)(alice, game)).match["id"]
    a, b = await pair(connect, match_id, alice, bob)  # open while it waits, so they see it start
    await database_sync_to_async(services.join_match)(match_id, bob)
    start = rules.initial_state(2, {})
    sockets, ending = (a, b), None
    async with asyncio.timeout(rules.max_ticks * rules.tick_ms / 1000 + 10):  # type: ignore[operator]
        while ending is None:
            message = await a.receive()
            if message["type"] == "event" and message["match"]["status"] == "finished":
                ending = message["match"]
            elif message["type"] == "tick" and seed > 1 and rng.random() < 0.2:
                seat = rng.choice([0, 1])
                await sockets[seat].send({"type": "input", "input": rules.random_move(start, seat, rng)})
    logged = MatchEvent.objects.filter(match_id=match_id, kind="ticks").order_by("seq").values_list("move", flat=True)
    played = [(move["tick"], move["inputs"]) for move in await database_sync_to_async(list)(logged)]
    expected = rules.tick_result(tick_states(rules, played)[-1])
    assert expected is not None and ending["result"] == expected.as_dict()
    assert ending["turn"] == []


@pytest.mark.parametrize("game", GAMES)
async def test_resignation(alice: Player, bob: Player, connect: Callable, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game), alice, bob)
    await a.send({"type": "resign"})
    for socket in (a, b):
        assert (await socket.next("event"))["match"]["result"] == {"winner": 1, "reason": "resign"}


@pytest.mark.parametrize("game", GAMES)
async def test_agreed_draw(alice: Player, bob: Player, connect: Callable, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game), alice, bob)
    await b.send({"type": "offer_draw"})
    if not get_game(game).allows_draw_offers:
        assert (await b.next("error"))["code"] == "draw_not_allowed"
        return
    await a.next("event")
    await b.next("event")
    await a.send({"type": "accept_draw"})
    for socket in (a, b):
        assert (await socket.next("event"))["match"]["result"] == {"winner": None, "reason": "agreement"}


def timeout_result(game: str) -> dict:
    """What the game says when every seat to move at the start runs out of
    time at once (one seat usually; several in a simultaneous phase, when
    they all flag at the same instant)."""
    rules = get_game(game)
    state = rules.initial_state(2, {})
    return rules.timeout_result(state, rules.turn(state), 2).as_dict()


@pytest.mark.parametrize("game", TURN_BASED)
async def test_timeout_with_nobody_sending_anything(
    alice: Player,
    bob: Player,
    connect: Callable,
    clock_loop: None,
    game: str,
) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, {"move_timeout": 1}), alice, bob)
    flagged = await a.next("event", timeout=5)
    assert flagged["event"]["kind"] == "timeout"
    assert flagged["match"]["result"] == timeout_result(game)
    assert (await b.next("event", timeout=5))["seq"] == flagged["seq"]


@pytest.mark.parametrize("game", REAL_TIME)
@pytest.mark.parametrize("options", [{"move_timeout": 1}, {"clock": {"initial": 60, "increment": 0}}])
def test_a_real_time_match_has_no_clock_and_no_move_timeout(alice: Player, game: str, options: dict) -> None:
    with pytest.raises(GameError) as refused:
        services.create_match(alice, game, options)
    assert refused.value.code == "invalid_options" and "ticks are the clock" in refused.value.message


@pytest.mark.parametrize("game", GAMES)
async def test_abandonment(alice: Player, bob: Player, connect: Callable, clock_loop: None, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, {"abandon_timeout": 1}), alice, bob)
    await a.close()
    abandoned = await b.next("event", timeout=5)
    assert abandoned["event"]["kind"] == "abandon" and abandoned["event"]["move"] == {"seats": [0]}
    assert abandoned["match"]["result"] == {"winner": 1, "reason": "abandoned"}
