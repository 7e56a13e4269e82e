"""The lobby: open matches listed over HTTP and pushed live over /ws/lobby/."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from games import services
from games.models import Player
from tests.conftest import open_path

pytestmark = pytest.mark.django_db(transaction=True)


def test_list_open_matches_by_game(alice: Player, bob: Player) -> None:
    waiting = services.create_match(alice, "chess").match
    services.create_match(alice, "connect4")
    full = services.create_match(bob, "chess").match
    services.join_match(full["id"], alice)
    listed = Client().get("/api/matches?game=chess").json()["matches"]
    assert [m["id"] for m in listed] == [waiting["id"]]
    assert {m["game"] for m in Client().get("/api/matches").json()["matches"]} == {"chess", "connect4"}
    active = Client().get("/api/matches?status=active").json()["matches"]
    assert [m["id"] for m in active] == [full["id"]]
    assert Client().get("/api/matches?status=nonsense").status_code == 400


async def test_the_lobby_socket_follows_matches_opening_and_filling(
    alice: Player, bob: Player, transactional_db: Any
) -> None:
    lobby, connected, _ = await open_path("/ws/lobby/")
    assert connected
    assert (await lobby.next("lobby"))["matches"] == []
    created = (await database_sync_to_async(services.create_match)(alice, "tictactoe")).match
    opened = await lobby.next("lobby")
    assert [(m["id"], m["players"][0]["name"]) for m in opened["matches"]] == [(created["id"], "alice")]
    await database_sync_to_async(services.join_match)(created["id"], bob)
    assert (await lobby.next("lobby"))["matches"] == []
    await lobby.send({"type": "move"})
    assert (await lobby.next("error"))["code"] == "bad_message"
    await lobby.close()


def test_the_lobby_list_costs_a_fixed_number_of_queries(alice: Player, make_player: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from games.lobby import list_matches

    for _ in range(5):
        services.create_match(make_player("host"), "tictactoe")
    with CaptureQueriesContext(connection) as queries:
        listed = list_matches()
    assert len(listed) == 5 and all(m["players"][0]["name"] == "host" for m in listed)
    assert len(queries) == 3  # matches, seats, players: not one per match


def test_the_lobby_message_stays_under_the_frame_limit_newest_first(make_player: Any) -> None:
    """However many long-named players open matches with long options, the
    lobby fits in one frame daphne will send (the Procfile caps frames at
    64 KiB), keeping the newest matches."""
    from games.lobby import LOBBY_MAX_BYTES, lobby_message

    fen = "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3"
    created = []
    for n in range(12):
        player = make_player(f"{'x' * 30}{n:02d}")
        for _ in range(10):
            created.append(services.create_match(player, "chess", {"fen": fen, "clock": {"initial": 300}}).match["id"])
    message = lobby_message()
    assert len(message["text"].encode()) <= LOBBY_MAX_BYTES
    listed = [match["id"] for match in json.loads(message["text"])["matches"]]
    assert 0 < len(listed) < len(created)
    assert listed == sorted(created, reverse=True)[: len(listed)]
