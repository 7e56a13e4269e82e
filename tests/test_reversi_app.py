"""Reversi as a game app: found through INSTALLED_APPS alone, listed by the
API, its board script served as a static file, and a whole match played over
the HTTP API and the WebSocket to its end, the server's state equal to the
rules' own at every step."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from games.engine import get_game
from games.models import Player
from reversi.rules import Reversi, count
from tests.conftest import pair, seated

pytestmark = pytest.mark.django_db(transaction=True)


def planned_game(seed: int) -> list[tuple[int, dict, dict]]:
    """A whole random game, played by the rules alone: (seat, move, state after)."""
    game, rng = Reversi(), random.Random(seed)
    state = game.initial_state(2, {})
    plan = []
    while game.turn(state):
        (seat,) = game.turn(state)
        move = game.random_move(state, seat, rng)
        state = game.apply_move(state, seat, game.parse_move(move))
        plan.append((seat, move, state))
    return plan


# Seed 3: 60 discs placed, white passes once, black wins.
PLAN = planned_game(3)
AFTER_D3 = Reversi().apply_move(Reversi().initial_state(2, {}), 0, Reversi().parse_move({"row": 2, "col": 3}))


def test_the_plan_holds_a_pass() -> None:
    assert any(after["passed"] is not None for _, _, after in PLAN)
    assert any(PLAN[i][0] == PLAN[i + 1][0] for i in range(len(PLAN) - 1))


def test_found_through_installed_apps_alone() -> None:
    assert "reversi" in settings.INSTALLED_APPS
    game = get_game("reversi")
    assert isinstance(game, Reversi) and type(game).__module__ == "reversi.rules"
    assert "reversi.game_rules" in sys.modules  # imported by the engine's autodiscovery
    assert finders.find("reversi/board.js") is not None


def test_the_api_lists_it() -> None:
    response = Client().get("/api/games")
    assert response.status_code == 200
    listed = {game["slug"]: game for game in response.json()["games"]}
    reversi = listed["reversi"]
    assert (reversi["name"], reversi["min_players"], reversi["max_players"]) == ("Reversi", 2, 2)
    assert reversi["board_script"] == "reversi/board.js"


def post(client: Client, path: str, body: Any, token: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_match_over_http_refuses_bad_moves_and_takes_good_ones() -> None:
    client = Client()
    alice, bob = (client.post("/api/players", {"name": n}, content_type="application/json").json() for n in "ab")
    created = post(client, "/api/matches", {"game": "reversi"}, alice["token"])
    assert created.status_code == 201, created.content
    match = post(client, f"/api/matches/{created.json()['id']}/join", {}, bob["token"]).json()
    assert match["status"] == "active" and match["turn"] == [0]
    assert match["state"] == Reversi().initial_state(2, {})
    path = f"/api/matches/{match['id']}/moves"
    for move in ({"row": 0, "col": 0}, {"row": 3, "col": 3}, {"row": True, "col": 3}, {"row": 2, "col": 3, "x": 1}):
        refused = post(client, path, {"move": move}, alice["token"])
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "illegal_move", move
    assert post(client, path, {"move": {"row": 2, "col": 3}}, bob["token"]).json()["error"]["code"] == "not_your_turn"
    played = post(client, path, {"move": {"row": 2, "col": 3}}, alice["token"])
    assert played.status_code == 200, played.content
    assert played.json()["state"] == AFTER_D3 and played.json()["turn"] == [1]


async def test_a_whole_match_over_websockets(alice: Player, bob: Player, connect: Callable) -> None:
    match_id = await seated(alice, bob, "reversi")
    a, b = await pair(connect, match_id, alice, bob)
    sockets = (a, b)
    event: dict = {}
    for seat, move, after in PLAN:
        await sockets[seat].move(move)
        event = await a.next("event")
        assert (await b.next("event"))["seq"] == event["seq"]
        assert event["event"]["kind"] == "move" and event["event"]["seat"] == seat
        assert event["event"]["move"] == move
        assert event["match"]["state"] == after
    final = event["match"]
    black, white = count(final["state"]["board"])
    assert final["status"] == "finished" and final["turn"] == []
    assert final["result"] == {"winner": 0 if black > white else 1, "reason": "most_discs"}
    assert black + white == 64
