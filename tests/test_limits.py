"""Rate limits and quotas: a flood gets ``rate_limited`` with ``retry_after``
(HTTP: 429 with ``Retry-After``), changes nothing and reaches nobody; the
shared limits hold across server processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client, override_settings

from games import quotas, services
from games.models import ChatMessage, Match, MatchEvent, Player
from tests.conftest import open_socket, pair
from tests.live import running_processes

pytestmark = pytest.mark.django_db(transaction=True)


def limits(**changed: str) -> Any:
    """These limits for one test (the others at their defaults)."""
    return override_settings(GAMES_LIMITS={**settings.GAMES_LIMITS, **changed})


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    quotas.reset()
    yield
    quotas.reset()


@limits(player_chat="5/minute")
async def test_a_chat_flood_is_cut_at_the_players_limit_and_reaches_nobody_beyond_it(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    a, b = await pair(connect, active_match["id"], alice, bob)
    for n in range(20):
        await a.send({"type": "chat", "text": f"line {n}", "ref": n})
    answers = [await a.next("error", skip=("presence", "chat")) for _ in range(15)]
    assert {answer["code"] for answer in answers} == {"rate_limited"}
    assert sorted(answer["ref"] for answer in answers) == list(range(5, 20))
    assert all(answer["retry_after"] >= 1 for answer in answers)
    heard = [await b.next("chat") for _ in range(5)]
    assert [line["text"] for line in heard] == [f"line {n}" for n in range(5)]
    await b.nothing_but_presence()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 5


@limits(socket_moves="2/second")
async def test_a_move_flood_on_one_socket_is_refused_without_changing_the_match(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    a, b = await pair(connect, active_match["id"], alice, bob)
    await a.move({"cell": 4}, ref="first")
    await a.move({"cell": 5}, ref="second")  # not alice's turn any more: refused, but counted
    await a.move({"cell": 6}, ref="too-fast")
    answers = {}
    while "too-fast" not in answers:
        message = await a.receive()
        if message["type"] in ("event", "error"):
            answers[message.get("ref")] = message
    assert answers["second"]["code"] == "not_your_turn"
    assert (answers["too-fast"]["code"], answers["too-fast"]["retry_after"] >= 1) == ("rate_limited", True)
    assert await database_sync_to_async(MatchEvent.objects.filter(kind="move").count)() == 1
    await b.move({"cell": 0}, ref="bob")  # bob's socket has its own allowance
    assert (await b.next("event"))["event"]["move"] == {"cell": 4}
    assert (await b.next("event"))["event"]["move"] == {"cell": 0}


@override_settings(GAMES_MAX_SOCKETS_PER_PLAYER=2)
async def test_a_player_holds_at_most_the_quota_of_sockets(active_match: dict, alice: Player, connect: Any) -> None:
    for _ in range(2):
        await (await connect(active_match["id"], alice)).next("snapshot")
    extra, connected, _ = await open_socket(active_match["id"], alice)
    assert connected
    error = await extra.receive()
    assert (error["code"], error["retry_after"]) == ("rate_limited", 1)
    assert (await extra.communicator.receive_output(3))["code"] == 4429
    spectator, connected, _ = await open_socket(active_match["id"])  # others are not affected
    assert connected and (await spectator.next("snapshot"))["type"] == "snapshot"
    await spectator.close()


@override_settings(GAMES_MAX_OPEN_MATCHES_PER_PLAYER=2)
def test_a_player_has_at_most_the_quota_of_waiting_matches(alice: Player) -> None:
    client = Client(REMOTE_ADDR=f"10.9.{uuid.uuid4().int % 250}.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}
    for _ in range(2):
        assert client.post("/api/matches", {"game": "tictactoe"}, "application/json", **headers).status_code == 201
    refused = client.post("/api/matches", {"game": "tictactoe"}, "application/json", **headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_open_matches"
    assert Match.objects.count() == 2


@limits(address_player_creation="3/minute")
def test_player_creation_per_address_gets_429_with_retry_after(transactional_db: None) -> None:
    address = f"10.8.{uuid.uuid4().int % 250}.1"
    client = Client(REMOTE_ADDR=address)
    for n in range(3):
        assert client.post("/api/players", {"name": f"p{n}"}, "application/json").status_code == 201
    refused = client.post("/api/players", {"name": "p3"}, "application/json")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Player.objects.count() == 3
    other = Client(REMOTE_ADDR=address.replace(".1", ".2"))
    assert other.post("/api/players", {"name": "elsewhere"}, "application/json").status_code == 201


def test_match_creation_per_address_is_limited(alice: Player) -> None:
    with limits(address_match_creation="1/minute"):
        quotas.reset()
        client = Client(REMOTE_ADDR=f"10.7.{uuid.uuid4().int % 250}.1")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}
        assert client.post("/api/matches", {"game": "tictactoe"}, "application/json", **headers).status_code == 201
        refused = client.post("/api/matches", {"game": "tictactoe"}, "application/json", **headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")
    assert services.load_match(Match.objects.get().pk).match["status"] == "waiting"
    assert Match.objects.count() == 1


@pytest.mark.integration
def test_a_shared_limit_holds_across_server_processes(transactional_db: None, tmp_path: Path) -> None:
    """Two daphne processes on one Redis: the per-address limit counts the
    players created through both."""
    env = {"GAMES_LIMIT_ADDRESS_PLAYER_CREATION": "3/minute", "CHANNEL_LAYER_PREFIX": f"limits-{uuid.uuid4().hex[:8]}"}
    with running_processes(tmp_path, servers=2, env=env) as (urls, _):
        statuses = [httpx.post(f"{urls[n % 2]}/api/players", json={"name": f"p{n}"}).status_code for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert Player.objects.count() == 3


@override_settings(GAMES_MAX_SOCKETS_PER_ADDRESS=2)
async def test_anonymous_sockets_are_held_to_the_address_quota_which_closing_frees(
    active_match: dict, connect: Any
) -> None:
    first = await connect(active_match["id"])
    await first.next("snapshot")
    await (await connect(active_match["id"])).next("snapshot")
    extra, connected, _ = await open_socket(active_match["id"])
    assert connected and (await extra.receive())["code"] == "rate_limited"
    assert (await extra.communicator.receive_output(3))["code"] == 4429
    await first.close()  # its slot is free again
    again, connected, _ = await open_socket(active_match["id"])
    assert connected and (await again.next("snapshot"))["type"] == "snapshot"
    await again.close()


@limits(socket_resyncs="2/minute")
async def test_resyncs_are_limited_per_socket(active_match: dict, alice: Player, bob: Player, connect: Any) -> None:
    a, _ = await pair(connect, active_match["id"], alice, bob)
    for ref in range(3):
        await a.send({"type": "resync", "after": 0, "ref": ref})
    error = await a.next("error", skip=("presence", "snapshot", "event"))
    assert (error["code"], error["ref"]) == ("rate_limited", 2)


# Per hour rather than per minute: the sliding window counter weighs the
# previous window by its remaining overlap, so four resyncs that straddle a
# window's end may all pass (a one-minute window made that a CI flake).
@limits(address_resyncs="3/hour")
async def test_resyncs_are_limited_per_address_across_sockets(active_match: dict, connect: Any) -> None:
    """Many anonymous sockets of one address share one resync allowance: what
    they cost falls on the same process."""
    sockets = [await connect(active_match["id"]) for _ in range(4)]
    for sock in sockets:
        await sock.next("snapshot")
        await sock.send({"type": "resync", "after": 0})
    # Each socket's consumer runs on its own, so which of the four is last
    # to be counted is not fixed: three get their event, one is refused.
    answers = [await answer_of(sock) for sock in sockets]
    assert sorted(answers) == ["event 1", "event 1", "event 1", "rate_limited"]


async def answer_of(sock: Any) -> str:
    """What a socket got for its resync: ``event <seq>``, or the error's code."""
    while True:
        message = await sock.receive(3)
        if message["type"] == "event":
            return f"event {message['seq']}"
        if message["type"] == "error":
            return message["code"]
        assert message["type"] == "presence", f"unexpected {message}"


async def test_a_resync_far_behind_is_a_snapshot_not_a_replay(alice: Player, bob: Player, connect: Any) -> None:
    """Past the checkpoint interval a snapshot costs less than the events."""
    match_id = await seated_chess(alice, bob, plies=20)
    watcher = await connect(match_id)
    await watcher.next("snapshot")
    await watcher.send({"type": "resync", "after": 2})
    assert (await watcher.next("snapshot"))["match"]["seq"] == 22
    await watcher.send({"type": "resync", "after": 20})
    assert [(await watcher.next("event"))["seq"] for _ in range(2)] == [21, 22]


async def seated_chess(alice: Player, bob: Player, plies: int) -> int:
    opening = "e2e4 e7e5 g1f3 b8c6 f1c4 f8c5 c2c3 g8f6 d2d3 d7d6 e1g1 e8g8 b1d2 a7a6 a2a4 a6a5 h2h3 h7h6 c4b3 c8e6"
    moves = opening.split()[:plies]

    def play() -> int:
        data = services.create_match(alice, "chess").match
        services.join_match(data["id"], bob)
        for ply, uci in enumerate(moves):
            services.act(data["id"], (alice, bob)[ply % 2], "move", {"uci": uci})
        return data["id"]

    return await database_sync_to_async(play)()


@override_settings(GAMES_TRUSTED_PROXY_HOPS=1)
@limits(address_player_creation="2/minute")
def test_a_forged_forwarded_for_does_not_escape_the_address_limit(transactional_db: None) -> None:
    """Behind one proxy that appends the address it saw, only the rightmost
    entry is the client's; whatever the client wrote before it is ignored."""
    client = Client(REMOTE_ADDR="10.0.0.1")
    real = f"203.0.113.{uuid.uuid4().int % 250}"
    statuses = [
        client.post(
            "/api/players", {"name": f"p{n}"}, "application/json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {real}"
        ).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 429, 429]


@override_settings(GAMES_TRUSTED_PROXY_HOPS=1)
def test_the_client_address_is_counted_from_the_right() -> None:
    assert quotas.client_address("1.1.1.1, 2.2.2.2", "10.0.0.1") == "2.2.2.2"
    assert quotas.client_address(None, "10.0.0.1") == "10.0.0.1"
    with override_settings(GAMES_TRUSTED_PROXY_HOPS=0):
        assert quotas.client_address("1.1.1.1", "10.0.0.1") == "10.0.0.1"


@limits(player_http_actions="2/minute")
def test_moves_over_http_are_limited_per_player(active_match: dict, alice: Player) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}
    url = f"/api/matches/{active_match['id']}/moves"
    answers = [Client().post(url, {"move": {"cell": c}}, "application/json", **headers) for c in (4, 5, 6)]
    assert [a.status_code for a in answers] == [200, 409, 429]  # 409: not her turn, but counted
    assert answers[2]["Retry-After"]
    assert MatchEvent.objects.filter(kind="move").count() == 1


@limits(address_replays="1/minute")
def test_replays_are_limited_per_address(active_match: dict, bob: Player) -> None:
    services.act(active_match["id"], bob, "resign")
    client = Client(REMOTE_ADDR=f"10.6.{uuid.uuid4().int % 250}.1")
    url = f"/api/matches/{active_match['id']}/replay"
    assert [client.get(url).status_code for _ in range(2)] == [200, 429]


@limits(socket_messages="3/minute")
async def test_every_message_of_a_socket_counts_even_garbage(active_match: dict, connect: Any) -> None:
    watcher = await connect(active_match["id"])
    await watcher.next("snapshot")
    for _ in range(4):
        await watcher.send("not json")
    codes = [(await watcher.next("error"))["code"] for _ in range(4)]
    assert codes == ["bad_message"] * 3 + ["rate_limited"]
