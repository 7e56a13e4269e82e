"""Protocol 2 (``?protocol=2``): events carry a patch of what changed, and a
client that applies each patch to its snapshot holds exactly the match that
protocol 1 sends whole, for every seat and for spectators."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from hypothesis import given
from hypothesis import strategies as st

from bench.driver import chess_line
from games import frames, patches, services
from games.engine.fold import advance, initial
from games.models import Player
from tests.conftest import Client, seated

pytestmark = pytest.mark.django_db(transaction=True)
AT = "2026-11-26T00:00:00Z"

NOT_NEGATIVE_ZERO = lambda number: str(number) != "-0.0"  # noqa: E731 (equal to 0.0, another text)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: str(f) != "-0.0")
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20,
)


@given(JSON, JSON)
def test_applying_the_diff_gives_the_new_document(before: Any, after: Any) -> None:
    ops = patches.diff(before, after)
    assert canonical(patches.apply(copy.deepcopy(before), ops)) == canonical(after)
    assert (ops == []) == (canonical(before) == canonical(after))


def canonical(document: Any) -> str:
    """JSON text in which key order does not count and 1, 1.0 and true differ."""
    return json.dumps(document, sort_keys=True)


def test_a_growing_list_costs_its_new_items_only() -> None:
    before = {"san": ["e4", "e5", "Nf3"], "fen": "a", "check": False}
    after = {"san": ["e4", "e5", "Nf3", "Nc6"], "fen": "b", "check": False}
    assert patches.diff(before, after) == [["/san/-", "Nc6"], ["/fen", "b"]]


async def follow(socket: Client, match: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The next event on a protocol 2 socket and the match it leaves the
    client holding, presence notices applied on the way as a client does."""
    match = copy.deepcopy(match)
    while (frame := await socket.receive())["type"] == "presence":
        next(p for p in match["players"] if p["seat"] == frame["seat"])["connected"] = frame["connected"]
    assert frame["type"] == "event" and "match" not in frame, f"expected a patched event, got {frame}"
    assert frame["seq"] == match["seq"] + 1
    return frame, {**patches.apply(match, frame["patch"]), "seq": frame["seq"]}


async def test_patched_copies_equal_the_whole_match_of_protocol_one(alice: Player, bob: Player, connect: Any) -> None:
    match_id = await seated(alice, bob, "chess", {"clock": {"initial": 300, "increment": 2}})
    a2 = await connect(match_id, alice, query="protocol=2")
    b2 = await connect(match_id, bob, query="protocol=2")
    watcher2 = await connect(match_id, query="protocol=2")
    watcher1 = await connect(match_id)
    held: dict[Client, dict[str, Any]] = {}
    for socket in (a2, b2, watcher2):
        snapshot = await socket.next("snapshot")
        assert snapshot["protocol"] == 2
        held[socket] = snapshot["match"]
    assert (await watcher1.next("snapshot"))["protocol"] == 1
    # Alice's socket opened before Bob's: it hears of him by a presence
    # notice, which its copy takes in as a client does (live presence is not
    # ordered with events, so it is settled before the moves).
    await a2.presence(1, True)
    held[a2]["players"][1]["connected"] = True
    for ply, uci in enumerate(["e2e4", "e7e5", "g1f3", "b8c6", "f1b5", "a7a6"]):
        mover = (a2, b2)[ply % 2]
        await mover.move({"uci": uci}, ref=f"r{ply}")
        whole = await watcher1.next("event")
        for socket in (a2, b2, watcher2):
            frame, held[socket] = await follow(socket, held[socket])
            assert frame["event"] == whole["event"]
            assert canonical(held[socket]) == canonical(whole["match"]), f"ply {ply}: a patched copy differs"
            assert frame.get("ref") == (f"r{ply}" if socket is mover else None)
            assert len(json.dumps(frame)) < len(json.dumps(whole))
    assert held[watcher2]["clock"]["remaining"][0] == whole["match"]["clock"]["remaining"][0]


async def test_hidden_information_stays_hidden_in_patches(alice: Player, bob: Player, connect: Any) -> None:
    """Each seat's patch is computed from its own view: applying it gives
    what protocol 1 shows that seat, nothing more."""
    match_id = await seated(alice, bob, "battleship")
    a2, b1 = await connect(match_id, alice, query="protocol=2"), await connect(match_id, bob)
    held = (await a2.next("snapshot"))["match"]
    await b1.next("snapshot")
    whole_a = await connect(match_id, alice)
    await whole_a.next("snapshot")
    await b1.send({"type": "resign"})
    _, held = await follow(a2, held)
    assert canonical(held) == canonical((await whole_a.next("event"))["match"])
    await b1.next("event")


async def test_an_unknown_protocol_gets_protocol_one(active_match: dict, alice: Player, connect: Any) -> None:
    for asked in ("3", "two", ""):
        socket = await connect(active_match["id"], alice, query=f"protocol={asked}")
        assert (await socket.next("snapshot"))["protocol"] == 1


async def test_resync_and_old_layer_messages_bring_the_whole_match(
    active_match: dict, alice: Player, bob: Player, connect: Any
) -> None:
    """What has no patch (a resync's events, a message from a process of the
    previous release) comes whole, which protocol 2 clients accept too."""
    b2 = await connect(active_match["id"], bob, query="protocol=2")
    await b2.next("snapshot")
    await database_sync_to_async(services.play_move)(active_match["id"], alice, {"cell": 0})
    assert "patch" in await b2.next("event")
    await b2.send({"type": "resync", "after": 2})
    resent = await b2.next("event")
    assert resent["seq"] == 3 and resent["match"]["state"]["board"][0] == "X"


def test_a_long_chess_game_costs_the_same_per_move() -> None:
    """A chess event after 60 plies is as small as after 2: the move list
    grows by one item, not by the whole list."""
    data = initial(1, "chess", 2, {})
    for seat, name in enumerate(["alice", "bob"]):
        event = {"seq": seat + 1, "kind": "join", "seat": seat, "move": None, "at": AT}
        data = advance(data, event, {"seat": seat, "id": seat + 1, "name": name})  # type: ignore[arg-type]
    presence = {0: {"connected": True, "left_at": None}, 1: {"connected": True, "left_at": None}}
    sizes = []
    for ply, uci in enumerate(chess_line(62)):
        event = {
            "seq": data["seq"] + 1,
            "kind": "move",
            "seat": ply % 2,
            "move": {"uci": uci},
            "at": "2026-11-26T00:00:00Z",
        }
        before, data = data, advance(data, event)  # type: ignore[arg-type]
        sizes.append(len(frames.dumps(frames.event_patch(event, before, data, presence, None))))  # type: ignore[arg-type]
    whole = len(frames.dumps(frames.event(event, data, presence, None)))  # type: ignore[arg-type]
    assert max(sizes[50:]) <= max(sizes[:6]) + 40, sizes  # a longer FEN, not a longer list
    assert sizes[-1] * 3 < whole
