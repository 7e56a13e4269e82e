"""Quick play through the real stack: the queue socket (``/ws/queue/``)
through the ASGI application, the HTTP calls (``/api/queue``), the waves
(run by the clock loop, and racing on threads), seeks lapsing when nobody
holds them, the computer as a fallback, hostile input, and the simulation
command at a tiny size."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from bots.models import Bot
from games import services as games
from games.clock import settle_due
from games.models import Match, Player, Seat
from matchmaking import holds, services
from matchmaking.models import Seek
from ratings.models import Rating
from tests.conftest import Client, open_path, race

pytestmark = pytest.mark.django_db(transaction=True)

BLITZ = {"clock": {"initial": 180, "increment": 2}, "rated": True}


@pytest.fixture
async def queue(transactional_db: None) -> Any:
    """``await queue(player)``: an open ``/ws/queue/`` socket (closed at the end)."""
    opened: list[Client] = []

    async def opener(player: Player | None) -> Client:
        client, connected, _ = await open_path("/ws/queue/", player)
        assert connected
        opened.append(client)
        return client

    yield opener
    for client in opened:
        await client.close()


def seek_message(game: str = "chess", options: dict | None = None, **fields: Any) -> dict[str, Any]:
    return {"type": "seek", "game": game, "options": BLITZ if options is None else options, **fields}


def stored(seek_id: int) -> Seek:
    return Seek.objects.get(pk=seek_id)


def seated(match_id: int) -> list[int]:
    return list(Seat.objects.filter(match_id=match_id).order_by("seat").values_list("player_id", flat=True))


def rate(player: Player, pool: str, rating: float) -> None:
    Rating.objects.create(player=player, pool=pool, rating=rating, deviation=60, updated_at=timezone.now())


def bearer(player: Player) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {player.token}"}  # type: ignore[attr-defined]


# --- the socket ------------------------------------------------------------


async def test_two_players_seek_over_sockets_and_land_in_the_same_started_match(
    alice: Player, bob: Player, queue: Callable
) -> None:
    a, b = await queue(alice), await queue(bob)
    await a.send(seek_message(ref="s1"))
    seeking = await a.next("seeking")
    assert seeking["ref"] == "s1" and seeking["waiting"] == 1
    assert seeking["seek"]["status"] == "waiting" and seeking["seek"]["match"] is None
    assert (seeking["seek"]["rating_pool"], seeking["seek"]["rating"]) == ("chess.blitz", 1500.0)
    await b.send(seek_message())
    to_alice, to_bob = await a.next("paired"), await b.next("paired")
    assert to_alice["match"] == to_bob["match"] is not None
    assert {to_alice["seat"], to_bob["seat"]} == {0, 1}
    assert (to_alice["opponent"]["name"], to_bob["opponent"]["name"]) == ("bob", "alice")
    assert to_alice["opponent"]["bot"] is False

    match = (await database_sync_to_async(games.load_match)(to_alice["match"])).match
    assert match["status"] == "active" and match["options"] == BLITZ
    by_seat = {to_alice["seat"]: alice.pk, to_bob["seat"]: bob.pk}
    assert await database_sync_to_async(seated)(match["id"]) == [by_seat[0], by_seat[1]]
    for seek_id in (to_alice["seek"]["id"], to_bob["seek"]["id"]):
        row = await database_sync_to_async(stored)(seek_id)
        assert (row.status, row.match_id) == ("paired", match["id"])
    # Both hold a seat at once: alice's match socket shows her as a player.
    sock, _, _ = await open_path(f"/ws/matches/{match['id']}/", alice)
    snapshot = await sock.next("snapshot")
    assert snapshot["match"]["status"] == "active"
    await sock.close()


async def test_a_player_paired_over_a_socket_who_never_comes_loses_by_abandonment(
    alice: Player, bob: Player, queue: Callable
) -> None:
    a, b = await queue(alice), await queue(bob)
    options = {"abandon_timeout": 1}
    await a.send(seek_message("tictactoe", options))
    await a.next("seeking")
    await b.send(seek_message("tictactoe", options))
    paired = await a.next("paired")
    await b.next("paired")
    row = await database_sync_to_async(Match.objects.get)(pk=paired["match"])
    assert row.status == "active" and row.deadline_at is not None  # nobody opened the match yet
    await asyncio.sleep(1.2)
    assert await database_sync_to_async(settle_due)() == 1
    ended = (await database_sync_to_async(games.load_match)(paired["match"])).match
    assert (ended["status"], ended["result"]) == ("finished", {"winner": 1, "reason": "abandoned"})


async def test_only_seeks_of_one_pool_are_paired(make_player: Callable, queue: Callable) -> None:
    alice, bob, carol, dave = [await database_sync_to_async(make_player)(n) for n in ("alice", "bob", "carol", "dave")]
    casual = {"clock": {"initial": 180, "increment": 2}}
    sockets = [await queue(p) for p in (alice, bob, carol, dave)]
    await sockets[0].send(seek_message(options=BLITZ))
    await sockets[1].send(seek_message(options=casual))
    await sockets[2].send(seek_message(options={"clock": {"initial": 60}, "rated": True}))
    for sock in sockets[:3]:
        assert (await sock.next("seeking"))["waiting"] == 1
    assert await database_sync_to_async(Match.objects.count)() == 0
    # {"rated": false} is casual: dave's seek joins bob's pool.
    await sockets[3].send(seek_message(options={**casual, "rated": False}))
    to_bob, to_dave = await sockets[1].next("paired"), await sockets[3].next("paired")
    assert to_bob["match"] == to_dave["match"]
    assert (await database_sync_to_async(Match.objects.get)(pk=to_bob["match"])).options == casual


async def test_the_clock_loop_pairs_in_waves(alice: Player, bob: Player, queue: Callable, clock_loop: None) -> None:
    with override_settings(MATCHMAKING_PAIR_AT_ONCE=False, MATCHMAKING_WAVE_SECONDS=3600):
        a, b = await queue(alice), await queue(bob)
        await a.send(seek_message())
        assert (await a.next("seeking"))["waiting"] == 1
        await b.send(seek_message())
        assert (await b.next("seeking"))["waiting"] == 2  # nobody paired them at once
        with override_settings(MATCHMAKING_WAVE_SECONDS=0.5):  # the loop's next wave pairs them
            to_alice, to_bob = await a.next("paired", timeout=10), await b.next("paired", timeout=10)
    assert to_alice["match"] == to_bob["match"]


async def test_cancel_withdraws_the_seek(alice: Player, bob: Player, queue: Callable) -> None:
    a, b = await queue(alice), await queue(bob)
    await a.send({"type": "cancel", "ref": 1})
    assert (await a.next("error"))["code"] == "not_found"  # nothing to cancel yet
    await a.send(seek_message())
    seek_id = (await a.next("seeking"))["seek"]["id"]
    await a.send({"type": "cancel", "ref": 2})
    withdrawn = await a.next("withdrawn")
    assert (withdrawn["reason"], withdrawn["ref"], withdrawn["seek"]["id"]) == ("cancelled", 2, seek_id)
    assert (await database_sync_to_async(stored)(seek_id)).status == "withdrawn"
    await b.send(seek_message())
    assert (await b.next("seeking"))["waiting"] == 1  # alice is not waiting any more
    assert await a.communicator.receive_nothing(0.3)  # the layer's copy of the news is not repeated


async def test_a_second_tab_holds_the_same_seek_and_both_hear_the_pairing(
    alice: Player, bob: Player, queue: Callable
) -> None:
    tab1, tab2, b = await queue(alice), await queue(alice), await queue(bob)
    await tab1.send(seek_message())
    first = (await tab1.next("seeking"))["seek"]
    await tab2.send(seek_message())
    second = await tab2.next("seeking")
    assert second["seek"]["id"] == first["id"] and second["waiting"] == 1  # the same seek, not a self-pair
    row = await database_sync_to_async(stored)(first["id"])
    assert (row.status, row.sockets) == ("waiting", 2)
    await database_sync_to_async(services.run_wave)(row.pool)
    assert await database_sync_to_async(Match.objects.count)() == 0
    await b.send(seek_message())
    paired = [await tab1.next("paired"), await tab2.next("paired"), await b.next("paired")]
    assert len({p["match"] for p in paired}) == 1
    assert await database_sync_to_async(seated)(paired[0]["match"]) in ([alice.pk, bob.pk], [bob.pk, alice.pk])


async def test_closing_the_last_socket_withdraws_the_seek(alice: Player, bob: Player, queue: Callable) -> None:
    tab1, tab2 = await queue(alice), await queue(alice)
    await tab1.send(seek_message())
    seek_id = (await tab1.next("seeking"))["seek"]["id"]
    await tab2.send(seek_message())
    await tab2.next("seeking")
    await tab1.close()
    row = await database_sync_to_async(stored)(seek_id)
    assert (row.status, row.sockets) == ("waiting", 1)  # the other tab still holds it
    await tab2.close()
    row = await database_sync_to_async(stored)(seek_id)
    assert (row.status, row.ended) == ("withdrawn", "closed")
    b = await queue(bob)
    await b.send(seek_message())
    assert (await b.next("seeking"))["waiting"] == 1
    assert await database_sync_to_async(Match.objects.count)() == 0


async def test_a_socket_seeking_another_pool_lets_go_of_its_first_seek(alice: Player, queue: Callable) -> None:
    a = await queue(alice)
    await a.send(seek_message())
    first = (await a.next("seeking"))["seek"]["id"]
    await a.send(seek_message(options={"clock": {"initial": 60}}))
    second = (await a.next("seeking"))["seek"]["id"]
    assert second != first
    assert (await database_sync_to_async(stored)(first)).ended == "cancelled"
    assert (await database_sync_to_async(stored)(second)).sockets == 1


async def test_a_seek_held_by_a_dead_server_lapses(alice: Player, bob: Player, queue: Callable) -> None:
    """alice's socket was on a process that died: nothing closed it and
    nothing refreshes it. bob is not paired with her once it lapsed."""
    with override_settings(MATCHMAKING_HOLD_SECONDS=0.2):
        ghost, _ = await database_sync_to_async(services.seek)(alice, "chess", BLITZ, socket=True)
        await asyncio.sleep(0.4)
        b = await queue(bob)
        await b.send(seek_message())
        assert (await b.next("seeking"))["waiting"] == 1
    row = await database_sync_to_async(stored)(ghost["id"])
    assert (row.status, row.ended, row.match_id) == ("withdrawn", "expired", None)


async def test_a_live_socket_keeps_its_seek_and_hears_what_the_layer_lost(
    alice: Player, bob: Player, queue: Callable
) -> None:
    with override_settings(MATCHMAKING_HOLD_SECONDS=2.0):
        a = await queue(alice)
        await a.send(seek_message())
        seek = (await a.next("seeking"))["seek"]
        await asyncio.sleep(4.5)  # more than twice the hold: its server refreshed it
        await database_sync_to_async(services.run_wave)(seek["pool"])
        assert (await database_sync_to_async(stored)(seek["id"])).status == "waiting"
        # The news of the pairing does not reach alice's socket through the
        # layer (as if it were lost): the next refresh tells her.
        channel = next(socket for socket in holds.held()).channel_name  # type: ignore[attr-defined]
        await get_channel_layer().group_discard(services.player_group(alice.pk), channel)
        b = await queue(bob)
        await b.send(seek_message())
        to_bob = await b.next("paired")
        to_alice = await a.next("paired", timeout=5)
    assert to_alice["match"] == to_bob["match"]


# --- HTTP ------------------------------------------------------------------


def test_seeking_over_http(alice: Player, bob: Player) -> None:
    http = HttpClient()
    body = {"game": "connect4", "options": {"move_timeout": 30}}
    created = http.post("/api/queue", body, content_type="application/json", **bearer(alice))
    assert created.status_code == 201
    seek = created.json()
    assert (seek["status"], seek["match"], seek["waiting"]) == ("waiting", None, 1)
    assert seek["pool"] == 'connect4:{"move_timeout":30}' and seek["created_at"].endswith("Z")
    again = http.post("/api/queue", body, content_type="application/json", **bearer(alice))
    assert (again.status_code, again.json()["id"]) == (200, seek["id"])
    held = stored(seek["id"]).held_until
    polled = http.get(f"/api/queue/{seek['id']}", **bearer(alice))
    assert polled.status_code == 200 and polled.json()["status"] == "waiting"
    assert stored(seek["id"]).held_until > held  # polling holds it

    theirs = http.post("/api/queue", body, content_type="application/json", **bearer(bob)).json()
    assert theirs["status"] == "paired" and theirs["opponent"]["name"] == "alice"
    mine = http.get(f"/api/queue/{seek['id']}", **bearer(alice)).json()
    assert (mine["status"], mine["match"], mine["opponent"]["name"]) == ("paired", theirs["match"], "bob")
    assert {mine["seat"], theirs["seat"]} == {0, 1}
    assert games.load_match(mine["match"]).match["status"] == "active"
    too_late = http.delete(f"/api/queue/{seek['id']}", **bearer(alice))
    assert (too_late.status_code, too_late.json()["status"]) == (200, "paired")

    assert http.get(f"/api/queue/{seek['id']}", **bearer(bob)).json()["error"]["code"] == "not_found"
    assert http.get(f"/api/queue/{seek['id']}").status_code == 401
    assert http.delete(f"/api/queue/{seek['id']}", **bearer(bob)).status_code == 404


def test_a_player_waits_in_a_few_pools_at_most(alice: Player) -> None:
    http = HttpClient()
    for seconds in (10, 20, 30):
        body = {"game": "tictactoe", "options": {"move_timeout": seconds}}
        assert http.post("/api/queue", body, content_type="application/json", **bearer(alice)).status_code == 201
    fourth = {"game": "tictactoe", "options": {"move_timeout": 40}}
    refused = http.post("/api/queue", fourth, content_type="application/json", **bearer(alice))
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "too_many_open_matches")
    assert Seek.objects.filter(player=alice, status="waiting").count() == 3
    again = {"game": "tictactoe", "options": {"move_timeout": 20}}  # one it already waits in: still its seek
    assert http.post("/api/queue", again, content_type="application/json", **bearer(alice)).status_code == 200


def test_withdrawing_over_http(alice: Player, bob: Player) -> None:
    http = HttpClient()
    body = {"game": "tictactoe"}
    seek = http.post("/api/queue", body, content_type="application/json", **bearer(alice)).json()
    withdrawn = http.delete(f"/api/queue/{seek['id']}", **bearer(alice)).json()
    assert (withdrawn["status"], withdrawn["reason"]) == ("withdrawn", "cancelled")
    assert http.get(f"/api/queue/{seek['id']}", **bearer(alice)).json()["status"] == "withdrawn"
    theirs = http.post("/api/queue", body, content_type="application/json", **bearer(bob)).json()
    assert (theirs["status"], theirs["waiting"]) == ("waiting", 1)


def test_an_http_seek_nobody_polls_lapses(alice: Player, bob: Player) -> None:
    http = HttpClient()
    with override_settings(MATCHMAKING_HOLD_SECONDS=0.2):
        seek = http.post("/api/queue", {"game": "tictactoe"}, content_type="application/json", **bearer(alice)).json()
        time.sleep(0.4)
        theirs = http.post("/api/queue", {"game": "tictactoe"}, content_type="application/json", **bearer(bob))
    assert theirs.json()["status"] == "waiting"
    lapsed = http.get(f"/api/queue/{seek['id']}", **bearer(alice)).json()
    assert (lapsed["status"], lapsed["reason"]) == ("withdrawn", "expired")


# --- across threads ----------------------------------------------------------


def test_waves_racing_on_threads_put_each_seek_in_at_most_one_match(
    make_player: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    """Waves of one pool run one after another, each seeing what the one
    before did: none of them ever picks a seek another already paired (the
    conditional update would refuse it, rolling back and logging the pair)."""
    players = [make_player(f"p{i}") for i in range(12)]
    with override_settings(MATCHMAKING_PAIR_AT_ONCE=False):
        seeks = [services.seek(player, "tictactoe", {})[0] for player in players]
    pool = seeks[0]["pool"]
    outcomes = race([lambda: services.run_wave(pool) for _ in range(4)])
    assert sum(outcome for outcome in outcomes if isinstance(outcome, int)) == 6, outcomes
    rows = list(Seek.objects.all())
    assert all(row.status == "paired" for row in rows)
    by_match: dict[int, list[int]] = {}
    for row in rows:
        by_match.setdefault(row.match_id, []).append(row.player_id)  # type: ignore[arg-type]
    assert len(by_match) == Match.objects.count() == 6
    for match_id, players_of in by_match.items():
        assert sorted(players_of) == sorted(seated(match_id)) and len(set(players_of)) == 2
    assert not [record.getMessage() for record in caplog.records if record.name.startswith("matchmaking")]


# --- the last opponent, the computer -------------------------------------------


def test_the_same_two_are_not_paired_twice_in_a_row_while_someone_else_waits(make_player: Callable) -> None:
    alice, bob, carol = make_player("alice"), make_player("bob"), make_player("carol")
    first = services.seek(alice, "tictactoe", {})[0]
    services.seek(bob, "tictactoe", {})
    assert services.poll(alice, first["id"])["status"] == "paired"
    rate(carol, "tictactoe", 2400)  # far from both: nobody may play her yet
    waiting = services.seek(carol, "tictactoe", {})[0]
    again = [services.seek(player, "tictactoe", {})[0] for player in (alice, bob)]
    services.run_wave(again[0]["pool"])
    assert [services.poll(p, s["id"])["status"] for p, s in zip((alice, bob), again, strict=True)] == ["waiting"] * 2
    services.cancel(carol, waiting["id"])
    services.run_wave(again[0]["pool"])  # only the two of them wait now: they may play again
    assert services.poll(alice, again[0]["id"])["opponent"]["name"] == "bob"  # type: ignore[index]


async def test_the_computer_takes_a_seek_that_asked_for_it(alice: Player, queue: Callable) -> None:
    await database_sync_to_async(rate)(alice, "tictactoe", 2000)
    a = await queue(alice)
    await a.send(seek_message("tictactoe", {}, bot_after=1))
    seek = (await a.next("seeking"))["seek"]
    assert seek["bot_after"] == 1
    await asyncio.sleep(1.1)
    await database_sync_to_async(services.run_wave)(seek["pool"])
    paired = await a.next("paired")
    assert paired["opponent"]["bot"] is True
    bot = await database_sync_to_async(Bot.objects.get)(player_id=paired["opponent"]["id"])
    assert bot.level == services.bot_level(2000) == 3
    match = (await database_sync_to_async(games.load_match)(paired["match"])).match
    assert match["status"] == "active"
    assert {p["id"] for p in match["players"]} == {alice.pk, bot.player_id}


def test_the_default_wait_for_the_computer_is_a_setting(alice: Player, bob: Player) -> None:
    assert services.bot_level(1000) == 1 and services.bot_level(1500) == 2
    http = HttpClient()
    assert (
        http.post("/api/queue", {"game": "tictactoe"}, content_type="application/json", **bearer(alice)).json()[
            "bot_after"
        ]
        is None
    )
    with override_settings(MATCHMAKING_BOT_AFTER_SECONDS=20):
        seek = http.post("/api/queue", {"game": "connect4"}, content_type="application/json", **bearer(bob)).json()
    assert seek["bot_after"] == 20


# --- hostile input -----------------------------------------------------------


async def test_bad_socket_messages_get_the_house_errors_and_change_nothing(alice: Player, queue: Callable) -> None:
    a = await queue(alice)
    refusals: list[tuple[Any, str]] = [
        (seek_message("go", ref="g"), "unknown_game"),
        (seek_message(options={"clock": {"initial": 0}}), "invalid_options"),
        (seek_message(options={"rated": "yes"}), "invalid_options"),
        (seek_message(options={"fen": "not a position"}), "invalid_options"),
        (seek_message(options={"colour": "white"}), "invalid_options"),
        (seek_message(options="chess"), "bad_message"),
        (seek_message(bot_after=0), "bad_message"),
        (seek_message(bot_after="soon"), "bad_message"),
        (seek_message("x" * 33), "bad_message"),
        ({"type": "seek"}, "bad_message"),
        ({"type": "join", "match": 1}, "bad_message"),
        ({"type": "cancel", "seek": "all"}, "bad_message"),
        ([1, 2], "bad_message"),
        ("not json", "bad_message"),
        ('{"type": "seek", "game": "chess\\u0000"}', "bad_message"),
        ({"type": "cancel", "seek": 999999}, "not_found"),
    ]
    for message, code in refusals:
        await a.send(message)
        error = await a.next("error")
        assert error["code"] == code, (message, error)
    await a.communicator.send_to(bytes_data=b"\x00")
    assert (await a.next("error"))["code"] == "bad_message"
    assert await database_sync_to_async(Seek.objects.count)() == 0
    await a.send(seek_message(ref="ok"))
    assert (await a.next("seeking"))["ref"] == "ok"  # the socket goes on


async def test_a_socket_without_a_player_cannot_seek(queue: Callable) -> None:
    anonymous = await queue(None)
    await anonymous.send(seek_message())
    assert (await anonymous.next("error"))["code"] == "not_authenticated"
    assert await database_sync_to_async(Seek.objects.count)() == 0


async def test_a_flood_of_seeks_is_limited_and_holds_one_seek(alice: Player, queue: Callable) -> None:
    a = await queue(alice)
    for index in range(120):
        await a.send(seek_message(ref=index))
    answers = [await a.receive(timeout=10) for _ in range(120)]
    kinds = {answer["type"] for answer in answers}
    limited = [answer for answer in answers if answer["type"] == "error"]
    assert kinds == {"seeking", "error"} and {e["code"] for e in limited} == {"rate_limited"}
    assert all(e["retry_after"] >= 1 for e in limited)
    rows = await database_sync_to_async(list)(Seek.objects.all())
    assert [(row.status, row.sockets) for row in rows] == [("waiting", 1)]


def test_bad_http_seeks_get_the_house_errors_and_change_nothing(alice: Player) -> None:
    http = HttpClient()
    cases: list[tuple[Any, int, str]] = [
        ({"game": "go"}, 400, "unknown_game"),
        ({"game": "chess", "options": {"clock": {"initial": -1}}}, 400, "invalid_options"),
        ({"game": "chess", "options": {"rated": 1}}, 400, "invalid_options"),
        ({"game": "chess", "options": "blitz"}, 400, "bad_request"),
        ({"game": "chess", "bot_after": 0}, 400, "bad_request"),
        ({"game": "chess", "colour": "white"}, 400, "bad_request"),
        ({"game": "chess\u0000"}, 400, "bad_request"),
        ({}, 400, "bad_request"),
    ]
    for body, status, code in cases:
        answer = http.post("/api/queue", json.dumps(body), content_type="application/json", **bearer(alice))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
    assert http.post("/api/queue", {"game": "chess"}, content_type="application/json").status_code == 401
    too_large = http.get(f"/api/queue/{2**70}", **bearer(alice))
    assert (too_large.status_code, too_large.json()["error"]["code"]) == (404, "not_found")
    assert Seek.objects.count() == 0


# --- the page and the simulation ---------------------------------------------------


def test_staff_see_the_queue_in_the_admin(alice: Player) -> None:
    from django.contrib.auth import get_user_model

    services.seek(alice, "reversi", {})
    staff = get_user_model().objects.create_user("staff", is_staff=True, is_superuser=True)
    http = HttpClient()
    http.force_login(staff)
    listed = http.get("/admin/matchmaking/seek/")
    assert listed.status_code == 200 and b"alice" in listed.content and b"reversi:{}" in listed.content
    assert http.get("/admin/matchmaking/seek/add/").status_code == 403


def test_the_play_page_is_served() -> None:
    page = HttpClient().get("/play/")
    assert page.status_code == 200
    assert b"Play now" in page.content and b"matchmaking/play.js" in page.content


def test_the_simulation_command_reports_waits_and_differences(tmp_path: Path) -> None:
    (tmp_path / "matchmaking.md").write_text("# Quick play\n\nText kept.\n")
    call_command("benchmatchmaking", players=60, rates="5,50", out=str(tmp_path), stdout=io.StringIO())
    runs = json.loads((tmp_path / "matchmaking.json").read_text())
    assert [(run["config"]["arrival_rate"], run["config"]["pair_at_once"]) for run in runs] == [
        (5.0, True),
        (50.0, True),
        (5.0, False),
        (50.0, False),
    ]
    for run in runs:
        assert run["seeks"] == 60 and run["overall"]["pairs"] >= 29
        assert 0 <= run["overall"]["wait_median"] <= run["overall"]["wait_p95"]
        assert 0 <= run["overall"]["difference_median"] <= run["overall"]["difference_p95"]
    text = (tmp_path / "matchmaking.md").read_text()
    assert text.startswith("# Quick play\n\nText kept.") and text.count("| waves only |") == 2
    call_command("benchmatchmaking", players=60, rates="5", out=str(tmp_path), stdout=io.StringIO())
    rewritten = (tmp_path / "matchmaking.md").read_text()
    assert rewritten.startswith("# Quick play\n\nText kept.") and rewritten.count("| waves only |") == 1
