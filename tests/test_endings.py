"""Every kind of ending, for every game, reached over WebSockets: the rules'
own endings, then resignation, agreed draws, timeouts and abandonment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async

from games import services
from games.engine import all_games, get_game
from games.models import Player
from tests.conftest import moves, pair, seated
from tests.rules_helpers import random_playout, states_of

pytestmark = pytest.mark.django_db(transaction=True)

GAMES = [game.slug for game in all_games()]


@pytest.mark.parametrize("game", GAMES)
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


@pytest.mark.parametrize("game", GAMES)
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


@pytest.mark.parametrize("game", GAMES)
async def test_abandonment(alice: Player, bob: Player, connect: Callable, clock_loop: None, game: str) -> None:
    a, b = await pair(connect, await seated(alice, bob, game, {"abandon_timeout": 1}), alice, bob)
    await a.close()
    abandoned = await b.next("event", timeout=5)
    assert abandoned["event"]["kind"] == "abandon" and abandoned["event"]["move"] == {"seats": [0]}
    assert abandoned["match"]["result"] == {"winner": 1, "reason": "abandoned"}
