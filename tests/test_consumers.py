"""The match WebSocket, through the real ASGI application (origin check, auth
middleware, routing, consumer) and the configured channel layer."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as HttpClient
from django.utils import timezone

from games import broadcast, services
from games.accounts import issue_ticket
from games.broadcast import match_group
from games.models import Match, MatchEvent, Player, Ticket
from tests.conftest import ORIGIN, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

WIN_FOR_X = [0, 3, 1, 4, 2]
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]


async def play(players: list[Any], cells: list[int], watchers: list[Any]) -> list[dict]:
    """Alternate moves over the sockets in ``players``; every socket in
    ``watchers`` must receive each move's event. Returns the last events."""
    last: list[dict] = []
    for index, cell in enumerate(cells):
        mover = players[index % 2]
        await mover.move({"cell": cell}, ref=f"m{index}")
        last = [await socket.next("event") for socket in watchers]
        assert {event["seq"] for event in last} == {last[0]["seq"]}
        for event in last:
            assert event["event"]["kind"] == "move"
            assert event["event"]["move"] == {"cell": cell}
            assert event["event"]["seat"] == index % 2
            assert event["match"]["state"]["board"][cell] == "XO"[index % 2]
            assert ("ref" in event) == (event is last[watchers.index(mover)])
    return last


async def test_snapshot_first_then_a_full_game_to_a_win(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    a, b, spectator = (
        await connect(active_match["id"], alice),
        await connect(active_match["id"], bob),
        await connect(active_match["id"]),
    )
    for socket in (a, b, spectator):
        snapshot = await socket.next("snapshot")
        assert snapshot["match"]["id"] == active_match["id"]
        assert snapshot["match"]["status"] == "active" and snapshot["match"]["turn"] == [0]
    last = await play([a, b], WIN_FOR_X, [a, b, spectator])
    for event in last:
        assert event["seq"] == 7
        assert event["match"]["status"] == "finished"
        assert event["match"]["result"] == {"winner": 0, "reason": "three_in_a_row"}
        assert event["match"]["turn"] == []
    match = await database_sync_to_async(Match.objects.get)(pk=active_match["id"])
    assert match.status == "finished"
    assert await database_sync_to_async(MatchEvent.objects.filter(match=match).count)() == 7


async def test_a_full_game_to_a_draw(active_match: dict, alice: Player, bob: Player, connect: Any) -> None:
    a, b = await connect(active_match["id"], alice), await connect(active_match["id"], bob)
    await a.next("snapshot")
    await b.next("snapshot")
    last = await play([a, b], DRAW, [a, b])
    assert last[0]["match"]["result"] == {"winner": None, "reason": "board_full"}
    assert last[0]["match"]["status"] == "finished"


async def test_sender_gets_ref_and_others_get_the_same_event_without_it(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    a, b = await connect(active_match["id"], alice), await connect(active_match["id"], bob)
    await a.next("snapshot")
    await b.next("snapshot")
    await a.move({"cell": 4}, seq=2, ref="abc")
    mine, theirs = await a.next("event"), await b.next("event")
    assert mine["ref"] == "abc" and "ref" not in theirs
    assert mine["seq"] == theirs["seq"] == 3
    assert mine["event"] == theirs["event"]


BAD_MESSAGES = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('"move"', "JSON object"),
    ('{"type": "dance"}', "unknown message type 'dance'"),
    ('{"move": {"cell": 1}}', "unknown message type None"),
    ('{"type": "move"}', "move: Field required"),
    ('{"type": "move", "move": [4]}', "move: Input should be a valid dictionary"),
    ('{"type": "move", "move": {"cell": 4}, "seq": "2"}', "seq: Input should be a valid integer"),
    ('{"type": "move", "move": {"cell": 4}, "seq": -1}', "seq: Input should be greater than or equal to 0"),
    ('{"type": "move", "move": {"cell": 4}, "extra": 1}', "extra: Extra inputs are not permitted"),
    ('{"type": "resync", "after": "x"}', "after: Input should be a valid integer"),
    (json.dumps({"type": "move", "move": {"cell": "x" * 20000}}), "larger than 16384 bytes"),
]


@pytest.mark.parametrize("text, problem", BAD_MESSAGES)
async def test_bad_messages_get_bad_message_and_change_nothing(
    active_match: dict, alice: Player, bob: Player, connect: Any, text: str, problem: str
) -> None:
    a, b = await connect(active_match["id"], alice), await connect(active_match["id"], bob)
    await a.next("snapshot")
    await b.next("snapshot")
    await a.send(text)
    error = await a.next("error")
    assert error["code"] == "bad_message"
    assert problem in error["message"]
    await b.nothing_but_presence()
    # The socket stays open and the match is untouched: the next good move works.
    await a.move({"cell": 0}, seq=2)
    assert (await a.next("event"))["seq"] == 3


async def test_binary_frames_are_refused(active_match: dict, alice: Player, connect: Any) -> None:
    a = await connect(active_match["id"], alice)
    await a.next("snapshot")
    await a.communicator.send_to(bytes_data=b'{"type": "move"}')
    error = await a.next("error")
    assert error["code"] == "bad_message" and "binary" in error["message"]


async def test_error_echoes_the_ref_of_a_bad_message(active_match: dict, alice: Player, connect: Any) -> None:
    a = await connect(active_match["id"], alice)
    await a.next("snapshot")
    await a.send({"type": "move", "move": {"cell": 4}, "seq": "x", "ref": "r-9"})
    assert (await a.next("error"))["ref"] == "r-9"


@pytest.mark.parametrize(
    "who, move, fields, code",
    [
        ("bob", {"cell": 0}, {}, "not_your_turn"),
        ("alice", {"cell": 12}, {}, "illegal_move"),
        ("alice", {"row": 1}, {}, "illegal_move"),
        ("spectator", {"cell": 0}, {}, "not_a_player"),
        ("alice", {"cell": 0}, {"seq": 1}, "stale_seq"),
    ],
)
async def test_game_errors_reach_only_the_sender(
    active_match: dict, alice: Player, bob: Player, connect: Any, who: str, move: dict, fields: dict, code: str
) -> None:
    sockets = {
        "alice": await connect(active_match["id"], alice),
        "bob": await connect(active_match["id"], bob),
        "spectator": await connect(active_match["id"]),
    }
    for socket in sockets.values():
        await socket.next("snapshot")
    await sockets[who].move(move, ref="x1", **fields)
    error = await sockets[who].next("error")
    assert (error["code"], error["ref"]) == (code, "x1")
    assert error["message"]
    for name, socket in sockets.items():
        if name != who:
            await socket.nothing_but_presence()
    match = await database_sync_to_async(Match.objects.get)(pk=active_match["id"])
    assert match.seq == active_match["seq"] and match.state == active_match["state"]


async def test_moving_before_the_match_starts_is_match_not_active(alice: Player, connect: Any) -> None:
    data = (await database_sync_to_async(services.create_match)(alice, "tictactoe")).match
    a = await connect(data["id"], alice)
    assert (await a.next("snapshot"))["match"]["status"] == "waiting"
    await a.move({"cell": 0})
    assert (await a.next("error"))["code"] == "match_not_active"


async def test_joining_is_an_event_for_those_already_watching(alice: Player, bob: Player, connect: Any) -> None:
    data = (await database_sync_to_async(services.create_match)(alice, "tictactoe")).match
    a = await connect(data["id"], alice)
    await a.next("snapshot")
    await database_sync_to_async(services.join_match)(data["id"], bob)
    joined = await a.next("event")
    assert joined["seq"] == 2
    assert joined["event"] == {"kind": "join", "seat": 1, "move": None, "at": joined["event"]["at"]}
    assert joined["match"]["status"] == "active" and joined["match"]["turn"] == [0]


async def test_a_watching_player_who_joins_becomes_seated(alice: Player, bob: Player, connect: Any) -> None:
    data = (await database_sync_to_async(services.create_match)(alice, "tictactoe")).match
    a, b = await connect(data["id"], alice), await connect(data["id"], bob)
    await a.next("snapshot")
    assert (await b.next("snapshot"))["match"]["players"][0]["id"] == alice.pk
    await a.receive()  # alice's own presence
    await database_sync_to_async(services.join_match)(data["id"], bob)
    assert (await b.next("event"))["event"]["kind"] == "join"
    assert (await a.next("event"))["event"]["kind"] == "join"
    assert await a.receive() == {"type": "presence", "seat": 1, "connected": True, "seq": 2}
    await b.close()
    assert await a.receive() == {"type": "presence", "seat": 1, "connected": False, "seq": 2}


async def test_http_moves_reach_the_sockets(active_match: dict, alice: Player, bob: Player, connect: Any) -> None:
    b = await connect(active_match["id"], bob)
    await b.next("snapshot")
    response = await database_sync_to_async(HttpClient().post)(
        f"/api/matches/{active_match['id']}/moves",
        json.dumps({"move": {"cell": 8}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice.token}",
    )
    assert response.status_code == 200
    event = await b.next("event")
    assert event["seq"] == 3 and event["event"]["move"] == {"cell": 8}


async def test_unknown_match_closes_with_4404(alice: Player, transactional_db: None) -> None:
    client, connected, _ = await open_socket(999999, alice)
    assert connected
    assert await client.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4404}


async def test_tickets_work_once(active_match: dict, alice: Player, transactional_db: None) -> None:
    ticket, _ = await database_sync_to_async(issue_ticket)(alice)
    first, _, _ = await open_socket(active_match["id"], query=f"ticket={ticket}")
    snapshot = await first.next("snapshot")
    assert snapshot["match"]["id"] == active_match["id"]
    await first.move({"cell": 0})
    assert (await first.next("event"))["event"]["seat"] == 0  # authenticated as alice
    second, connected, _ = await open_socket(active_match["id"], query=f"ticket={ticket}")
    assert connected
    assert await second.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    await first.close()


async def test_expired_ticket_closes_with_4401(active_match: dict, alice: Player, transactional_db: None) -> None:
    ticket, _ = await database_sync_to_async(issue_ticket)(alice)
    await database_sync_to_async(Ticket.objects.update)(expires_at=timezone.now() - timedelta(seconds=1))
    client, _, _ = await open_socket(active_match["id"], query=f"ticket={ticket}")
    assert await client.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_broadcast_waits_for_commit(
    active_match: dict, alice: Player, bob: Player, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A move whose transaction fails after the log write must reach nobody."""
    b = await connect(active_match["id"], bob)
    await b.next("snapshot")
    real_on_commit = services.transaction.on_commit

    def on_commit_then_fail(callback: Any, robust: bool = False) -> None:
        real_on_commit(callback, robust=robust)
        raise RuntimeError("the database went away before COMMIT")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(services.transaction, "on_commit", on_commit_then_fail)
        await database_sync_to_async(services.play_move)(active_match["id"], alice, {"cell": 0})
    await b.nothing_but_presence(timeout=0.5)
    match = await database_sync_to_async(Match.objects.get)(pk=active_match["id"])
    assert match.seq == active_match["seq"]


async def test_forged_ticket_closes_with_4401(active_match: dict, transactional_db: None) -> None:
    client, _, _ = await open_socket(active_match["id"], query="ticket=forged")
    assert await client.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_session_cookie_authenticates_the_socket(active_match: dict, alice: Player, connect: Any) -> None:
    session = SessionStore()
    session[SESSION_KEY] = str(alice.user_id)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = alice.user.get_session_auth_hash()
    await database_sync_to_async(session.save)()
    cookie = (b"cookie", f"sessionid={session.session_key}".encode())
    a = await connect(active_match["id"], headers=[ORIGIN, cookie])
    await a.next("snapshot")
    await a.move({"cell": 0})
    assert (await a.next("event"))["event"]["seat"] == 0


async def test_foreign_origin_is_refused_and_missing_origin_allowed(active_match: dict, transactional_db: None) -> None:
    _, connected, _ = await open_socket(active_match["id"], headers=[(b"origin", b"https://evil.example")])
    assert not connected
    client, connected, _ = await open_socket(active_match["id"], headers=[])
    assert connected
    await client.next("snapshot")
    await client.close()


async def test_presence_follows_sockets(active_match: dict, alice: Player, bob: Player, connect: Any) -> None:
    a = await connect(active_match["id"], alice)
    await a.receive()  # snapshot
    assert await a.receive() == {"type": "presence", "seat": 0, "connected": True, "seq": 2}
    b = await connect(active_match["id"], bob)
    snapshot = await b.next("snapshot")
    assert [p["connected"] for p in snapshot["match"]["players"]] == [True, True]
    assert await a.receive() == {"type": "presence", "seat": 1, "connected": True, "seq": 2}
    await b.close()
    assert await a.receive() == {"type": "presence", "seat": 1, "connected": False, "seq": 2}
    now = await database_sync_to_async(services.load_match)(active_match["id"])
    assert [now.presence[seat]["connected"] for seat in (0, 1)] == [True, False]


async def test_resync_replays_missed_events_with_the_match_as_it_was(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    for player, cell in [(alice, 0), (bob, 4), (alice, 8)]:
        await database_sync_to_async(services.play_move)(active_match["id"], player, {"cell": cell})
    a = await connect(active_match["id"], alice)
    assert (await a.next("snapshot"))["match"]["seq"] == 5
    await a.send({"type": "resync", "after": 2})
    replayed = [await a.next("event") for _ in range(3)]
    assert [e["seq"] for e in replayed] == [3, 4, 5]
    assert [e["match"]["seq"] for e in replayed] == [3, 4, 5]
    assert [e["match"]["state"]["board"].count(None) for e in replayed] == [8, 7, 6]
    assert replayed[0]["match"]["turn"] == [1]
    await a.send({"type": "resync", "after": 5})
    assert (await a.next("snapshot"))["match"]["seq"] == 5


async def test_resync_far_behind_gets_a_snapshot(
    active_match: dict, alice: Player, connect: Any, settings: Any
) -> None:
    settings.GAMES_RESYNC_MAX_EVENTS = 1
    await database_sync_to_async(services.play_move)(active_match["id"], alice, {"cell": 0})
    a = await connect(active_match["id"], alice)
    await a.next("snapshot")
    await a.send({"type": "resync", "after": 0})
    assert (await a.next("snapshot"))["match"]["seq"] == 3


async def test_consumer_orders_and_fills_gaps_from_the_log(
    active_match: dict, alice: Player, bob: Player, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer promises neither delivery nor order: hold back the
    broadcasts, deliver the newer one first and drop nothing else, and the
    client must still get 3, 4, 5 in order, once each."""
    held: list[tuple[int, dict]] = []
    monkeypatch.setattr(broadcast, "send_to_match", lambda match_id, message: held.append((match_id, message)))
    b = await connect(active_match["id"], bob)
    await b.next("snapshot")
    for player, cell in [(alice, 0), (bob, 4), (alice, 8)]:
        await database_sync_to_async(services.play_move)(active_match["id"], player, {"cell": cell})
    layer = get_channel_layer()
    moves = [message for _, message in held if message["type"] == "match.event"]
    assert [m["seq"] for m in moves] == [3, 4, 5]
    await layer.group_send(match_group(active_match["id"]), moves[2])  # 5 first: 3 and 4 were "lost"
    await layer.group_send(match_group(active_match["id"]), moves[0])  # a late, old 3
    received = [await b.next("event") for _ in range(3)]
    assert [e["seq"] for e in received] == [3, 4, 5]
    assert received[2]["match"]["state"]["board"] == ["X", None, None, None, "O", None, None, None, "X"]
    await b.nothing_but_presence()
