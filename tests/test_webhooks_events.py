"""Outgoing webhooks: which events write which messages, with what data.

Every event is driven through the real code path (the HTTP API, the match
and tournament services, the WebSockets, the incoming payment webhook signed
with the ``standardwebhooks`` package) and the message it wrote to the outbox
is read back: its type, its exact ``data``, the Standard Webhooks envelope and
its size. Which endpoints get a delivery, what a rollback leaves, and one
match played over WebSockets end to end to a real receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings

from bots.services import bot_player
from games import services
from games.accounts import create_guest, player_for_user
from games.models import Match, Player
from tests.conftest import moves, open_path
from tests.test_webhooks import ACME_SECRET, STRIPE_SECRET, post_standard, post_stripe, standard_payment
from tests.webhook_receivers import receiver
from tournaments import services as tournaments
from tournaments.models import Entry, Tournament
from webhooks import payloads
from webhooks.models import Delivery, Endpoint, Message
from webhooks.sender import send_due

pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
X_WINS = [0, 3, 1, 4, 2]  # tic-tac-toe cells, seat 0 first: seat 0 wins on its third move
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]  # tic-tac-toe cells, seat 0 first: a full board, nobody wins


@pytest.fixture(autouse=True)
def payment_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The incoming gateways' secrets, as tests/test_webhooks.py signs with them."""
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    monkeypatch.setenv("PAYMENTS_ACME_WEBHOOK_SECRET", ACME_SECRET)


def endpoint(*event_types: str, enabled: bool = True, url: str = "https://hooks.example.com/events") -> Endpoint:
    made = Endpoint.objects.create(url=url, event_types=list(event_types), enabled=enabled)
    made.rotate_secret()
    return made


def written(event_type: str | None = None) -> list[dict[str, Any]]:
    """The ``data`` of every message written (of ``event_type``), oldest
    first. Each message is checked on the way: the Standard Webhooks envelope
    ``{"type", "timestamp", "data"}``, a UTC timestamp with milliseconds from
    the last minute, and a body under 20 kB."""
    found = []
    for message in Message.objects.order_by("created_at", "id"):
        body = json.loads(message.body)
        assert list(body) == ["type", "timestamp", "data"] and body["type"] == message.type
        assert TIMESTAMP.fullmatch(body["timestamp"]), body["timestamp"]
        moment = datetime.strptime(body["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert timedelta(0) <= datetime.now(UTC) - moment < timedelta(minutes=1)
        assert len(message.body.encode()) < payloads.MAX_BYTES
        if event_type is None or message.type == event_type:
            found.append(body["data"])
    return found


def types_written() -> list[str]:
    return list(Message.objects.order_by("created_at", "id").values_list("type", flat=True))


def post(path: str, player: Player | None = None, body: Any = None) -> Any:
    """POST ``body`` as JSON to the HTTP API, as ``player`` (its Bearer token) or anonymously."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {player.token}"} if player is not None else {}  # type: ignore[attr-defined]
    return Client().post(path, json.dumps(body or {}), content_type="application/json", **headers)


def play(match_id: int, players: list[Player], cells: list[int]) -> None:
    """Play tic-tac-toe ``cells`` in turn, ``players`` by seat, seat 0 first."""
    for turn, cell in enumerate(cells):
        services.play_move(match_id, players[turn % 2], {"cell": cell})


def seat(number: int, player: Player) -> dict[str, Any]:
    return {"seat": number, "id": player.pk, "name": player.name, "is_bot": player.is_bot}


def as_player(player: Player) -> dict[str, Any]:
    return {"id": player.pk, "name": player.name, "is_bot": player.is_bot}


def tournament_data(cup: Tournament, status: str) -> dict[str, Any]:
    return {
        "id": cup.pk, "name": cup.name, "game": "tictactoe", "options": {}, "status": status,
        "entry_fee": cup.entry_fee, "currency": "eur", "capacity": cup.capacity, "url": f"/tournaments/{cup.pk}/",
    }  # fmt: skip


# --- matches -------------------------------------------------------------------


def test_a_match_over_http_writes_started_once_it_fills_and_finished_with_its_result(
    alice: Player, bob: Player
) -> None:
    endpoint()
    created = post("/api/matches", alice, {"game": "tictactoe"}).json()
    assert written() == []  # waiting for an opponent is no event
    assert post(f"/api/matches/{created['id']}/join", bob).status_code == 200
    match = {
        "id": created["id"], "game": "tictactoe", "options": {}, "rated": False,
        "players": [seat(0, alice), seat(1, bob)], "url": f"/matches/{created['id']}/",
    }  # fmt: skip
    assert written() == [{**match, "status": "active"}]
    for turn, cell in enumerate(X_WINS):
        answer = post(f"/api/matches/{created['id']}/moves", [alice, bob][turn % 2], {"move": {"cell": cell}})
        assert answer.status_code == 200
    assert types_written() == ["match.started", "match.finished"]
    result = {"winner": 0, "reason": "three_in_a_row"}
    assert written("match.finished") == [{**match, "status": "finished", "result": result}]
    assert Match.objects.get(pk=created["id"]).result == result


def test_a_rated_match_finished_carries_each_players_rating_change(alice: Player, bob: Player) -> None:
    endpoint("match.finished")
    match_id = services.create_match(alice, "tictactoe", {"rated": True}).match["id"]
    services.join_match(match_id, bob)
    play(match_id, [alice, bob], X_WINS)
    [finished] = written("match.finished")
    assert finished["rated"] is True
    ratings = finished["result"]["ratings"]
    assert [(line["seat"], line["player"], line["pool"]) for line in ratings] == [
        (0, alice.pk, "tictactoe"),
        (1, bob.pk, "tictactoe"),
    ]
    assert ratings[0]["change"] > 0 > ratings[1]["change"]
    assert finished["result"] == Match.objects.get(pk=match_id).result  # what the players were sent


def test_aborted_matches_write_aborted_with_the_reason_and_a_waiting_one_never_started(
    alice: Player, bob: Player
) -> None:
    endpoint("match.started", "match.aborted", "match.finished")
    waiting = services.create_match(alice, "tictactoe").match["id"]
    services.abort_match(waiting, reason="aborted by staff")
    [aborted] = written("match.aborted")
    assert aborted == {
        "id": waiting, "game": "tictactoe", "options": {}, "rated": False, "status": "aborted",
        "players": [seat(0, alice)], "url": f"/matches/{waiting}/", "reason": "aborted by staff",
    }  # fmt: skip
    assert written("match.started") == []
    active = services.create_match(alice, "tictactoe").match["id"]
    services.join_match(active, bob)
    services.abort_match(active, reason="server maintenance")
    assert types_written() == ["match.aborted", "match.started", "match.aborted"]
    assert written("match.aborted")[1]["reason"] == "server maintenance"
    assert written("match.finished") == []


def test_a_rematch_starts_once_although_its_seats_are_taken_one_by_one(alice: Player, bob: Player) -> None:
    endpoint("match.started")
    first = services.create_match(alice, "tictactoe").match["id"]
    services.join_match(first, bob)
    services.act(first, alice, "resign")
    services.act(first, alice, "rematch")
    services.act(first, bob, "rematch")
    rematch = services.load_match(first).match["rematch"]["match"]
    assert rematch is not None
    started = written("match.started")
    assert [data["id"] for data in started] == [first, rematch]
    assert started[1]["players"] == [seat(0, bob), seat(1, alice)]  # seats rotated


@pytest.fixture
async def queue(transactional_db: None) -> Any:
    """``await queue(player)``: an open quick-play socket (closed at the end)."""
    opened = []

    async def opener(player: Player) -> Any:
        client, connected, _ = await open_path("/ws/queue/", player)
        assert connected
        opened.append(client)
        return client

    yield opener
    for client in opened:
        await client.close()


async def play_over_websockets(alice: Player, bob: Player, queue: Callable, connect: Callable) -> int:
    """Quick play: both seek tic-tac-toe on the queue socket, are paired into
    a new match, open its socket and play it to a win. Returns the match id."""
    a_queue, b_queue = await queue(alice), await queue(bob)
    await a_queue.send({"type": "seek", "game": "tictactoe", "options": {}})
    await a_queue.next("seeking")
    await b_queue.send({"type": "seek", "game": "tictactoe", "options": {}})
    paired = await a_queue.next("paired")
    await b_queue.next("paired")
    by_seat = {paired["seat"]: alice, 1 - paired["seat"]: bob}
    sockets = [await connect(paired["match"], by_seat[0]), await connect(paired["match"], by_seat[1])]
    for socket in sockets:
        await socket.next("snapshot")
    last = await moves(*sockets, [(turn % 2, {"cell": cell}) for turn, cell in enumerate(X_WINS)])
    assert last["match"]["status"] == "finished"
    return paired["match"]


async def test_a_match_played_over_websockets_writes_one_started_and_one_finished(
    alice: Player, bob: Player, queue: Callable, connect: Callable
) -> None:
    await database_sync_to_async(endpoint)()
    match_id = await play_over_websockets(alice, bob, queue, connect)
    assert await database_sync_to_async(types_written)() == ["match.started", "match.finished"]
    started, finished = await database_sync_to_async(written)()
    assert started["id"] == finished["id"] == match_id
    assert finished["result"] == {"winner": 0, "reason": "three_in_a_row"}


# --- tournaments and entries -------------------------------------------------------


def test_a_free_tournament_confirms_entries_starts_announces_each_bracket_match_and_its_winner(
    make_player: Callable,
) -> None:
    endpoint()
    cup = tournaments.create_tournament("Winter cup " + "x" * 89, "tictactoe", {}, 0, "eur", 4, None)
    first, second, third = [make_player(name * 40) for name in "abc"]  # the longest names there are
    Message.objects.all().delete()  # their player.created
    entries = [tournaments.enter(cup.pk, player) for player in (first, second, third)]
    assert written("entry.confirmed") == [
        {
            "id": entry.pk, "tournament": tournament_data(cup, "registration"), "player": as_player(entry.player),
            "status": "confirmed", "amount_paid": None, "currency_paid": None,
        }
        for entry in entries
    ]  # fmt: skip

    tournaments.start(cup.pk)  # first has a bye; second and third play at once
    assert written("tournament.started") == [{**tournament_data(cup, "running"), "entrants": 3}]
    [ready] = written("tournament.match_ready")
    semi = ready["match"]["id"]
    assert ready == {
        "tournament": tournament_data(cup, "running"), "round": 1, "slot": 1, "tiebreak": False,
        "match": {
            "id": semi, "game": "tictactoe", "options": {}, "rated": False, "status": "active",
            "players": [seat(0, second), seat(1, third)], "url": f"/matches/{semi}/",
        },
    }  # fmt: skip

    play(semi, [second, third], DRAW)  # a draw: replayed with the seats swapped
    tiebreak = written("tournament.match_ready")[1]
    assert (tiebreak["round"], tiebreak["slot"], tiebreak["tiebreak"]) == (1, 1, True)
    assert tiebreak["match"]["players"] == [seat(0, third), seat(1, second)]
    play(tiebreak["match"]["id"], [third, second], X_WINS)  # third wins and meets first in the final
    final = written("tournament.match_ready")[2]
    assert (final["round"], final["slot"], final["tiebreak"]) == (2, 0, False)
    assert final["match"]["players"] == [seat(0, first), seat(1, third)]
    play(final["match"]["id"], [first, third], X_WINS)

    assert written("tournament.finished") == [{**tournament_data(cup, "finished"), "winner": as_player(first)}]
    assert [kind for kind in types_written() if kind.startswith("tournament.")] == [
        "tournament.started", "tournament.match_ready", "tournament.match_ready", "tournament.match_ready",
        "tournament.finished",
    ]  # fmt: skip
    bracket_matches = [data["match"]["id"] for data in written("tournament.match_ready")]
    assert [data["id"] for data in written("match.started")] == bracket_matches
    # Cause before effect: a match's own message comes before what its ending causes.
    assert [kind for kind in types_written() if kind.startswith(("match.", "tournament."))] == [
        "tournament.started", "match.started", "tournament.match_ready",  # the semi-final
        "match.finished", "match.started", "tournament.match_ready",  # drawn: the tiebreak
        "match.finished", "match.started", "tournament.match_ready",  # won: the final
        "match.finished", "tournament.finished",
    ]  # fmt: skip


def test_a_tournament_with_too_few_players_is_cancelled(alice: Player) -> None:
    endpoint("tournament.started", "tournament.cancelled")
    cup = tournaments.create_tournament("Cup", "tictactoe", {}, 0, "eur", 4, None)
    tournaments.enter(cup.pk, alice)
    assert tournaments.start(cup.pk).status == "cancelled"
    assert written() == [{**tournament_data(cup, "cancelled"), "reason": "too_few_players"}]
    assert types_written() == ["tournament.cancelled"]


def paid_entry(player: Player) -> tuple[Tournament, Entry]:
    """A 5 EUR cup and ``player``'s entry, made through the HTTP API."""
    cup = tournaments.create_tournament("Paid cup", "tictactoe", {}, 500, "eur", 4, None)
    assert post(f"/api/tournaments/{cup.pk}/entries", player).status_code == 201
    return cup, Entry.objects.get(tournament=cup, player=player)


def test_a_payment_webhook_confirming_an_entry_writes_entry_confirmed_once(alice: Player) -> None:
    endpoint()
    cup, entry = paid_entry(alice)
    assert written() == []  # a paid entry waits for its payment
    body = standard_payment(entry)
    assert post_standard(body, "msg_paid").json()["outcome"] == "processed"
    assert post_standard(body, "msg_paid").json()["outcome"] == "duplicate"  # the gateway retried
    assert written() == [
        {
            "id": entry.pk, "tournament": tournament_data(cup, "registration"), "player": as_player(alice),
            "status": "confirmed", "amount_paid": 500, "currency_paid": "eur",
        }
    ]  # fmt: skip
    assert types_written() == ["entry.confirmed"]


def test_flagged_payments_write_entry_flagged_with_the_entry_the_reason_and_the_delivery(alice: Player) -> None:
    endpoint("entry.flagged")
    cup, entry = paid_entry(alice)
    assert post_standard(standard_payment(entry, amount=400), "msg_short").json()["outcome"] == "flagged"
    assert written() == [
        {
            "entry": {
                "id": entry.pk, "tournament": tournament_data(cup, "registration"), "player": as_player(alice),
                "status": "payment_mismatch", "amount_paid": 400, "currency_paid": "eur",
            },
            "reason": "paid 400 eur, the fee is 500 eur",
            "payment": {"provider": "acme", "event_id": "msg_short", "type": "payment.succeeded"},
        }
    ]  # fmt: skip

    unknown = json.dumps(
        {"type": "payment.succeeded", "data": {"reference": "entry_nobody", "amount": 1, "currency": "eur"}}
    )
    assert post_standard(unknown, "msg_unknown").json()["outcome"] == "flagged"
    no_entry = written()[1]
    assert no_entry["entry"] is None and no_entry["reason"] == "no entry has the reference 'entry_nobody'"
    assert no_entry["payment"] == {"provider": "acme", "event_id": "msg_unknown", "type": "payment.succeeded"}

    session = {"id": "cs_1", "amount_total": 900, "currency": "eur", "payment_status": "paid"}
    stripe_body = json.dumps({"id": "evt_shop", "type": "checkout.session.completed", "data": {"object": session}})
    assert post_stripe(stripe_body).json()["outcome"] == "flagged"  # a sale that is no tournament entry
    assert written()[2]["payment"] == {
        "provider": "stripe",
        "event_id": "evt_shop",
        "type": "checkout.session.completed",
    }
    assert written()[2]["entry"] is None

    assert post_standard(standard_payment(entry, "payment.refunded"), "msg_refund").json()["outcome"] == "processed"
    assert len(written()) == 3  # a processed delivery flags nothing


# --- players -------------------------------------------------------------------------


def test_every_new_player_writes_player_created(transactional_db: None) -> None:
    endpoint("player.created")
    guest = post("/api/players", body={"name": "carol"}).json()
    program = post("/api/players", body={"name": "deep thought", "is_bot": True}).json()
    computer = bot_player(1)
    staff = player_for_user(get_user_model().objects.create_user("organiser", is_staff=True))
    assert written() == [
        {"id": guest["id"], "name": "carol", "is_bot": False},
        {"id": program["id"], "name": "deep thought", "is_bot": True},
        as_player(computer),
        {"id": staff.pk, "name": "organiser", "is_bot": False},
    ]
    staff.name = "renamed"
    staff.save()
    player_for_user(staff.user)
    assert len(written()) == 4  # saving or fetching a player again creates nothing


# --- who gets what -----------------------------------------------------------------------


def test_only_the_endpoints_asking_for_a_type_get_a_delivery(alice: Player, bob: Player) -> None:
    finishes = endpoint("match.finished")
    everything = endpoint()
    disabled = endpoint(enabled=False)
    players = endpoint("player.created")
    match_id = services.create_match(alice, "tictactoe").match["id"]
    services.join_match(match_id, bob)
    play(match_id, [alice, bob], X_WINS)

    def delivered_to(kind: str) -> set[int]:
        return set(Delivery.objects.filter(message__type=kind).values_list("endpoint_id", flat=True))

    assert delivered_to("match.started") == {everything.pk}
    assert delivered_to("match.finished") == {finishes.pk, everything.pk}
    assert not Delivery.objects.filter(endpoint__in=[disabled, players]).exists()
    assert types_written() == ["match.started", "match.finished"]  # stored once each, whoever gets it


def test_a_disabled_endpoints_messages_are_stored_without_a_delivery(alice: Player, bob: Player) -> None:
    endpoint(enabled=False)
    match_id = services.create_match(alice, "tictactoe").match["id"]
    services.join_match(match_id, bob)
    assert types_written() == ["match.started"]
    assert not Delivery.objects.exists()


def test_nothing_is_written_when_no_endpoint_wants_the_event(alice: Player, bob: Player) -> None:
    match_id = services.create_match(alice, "tictactoe").match["id"]
    services.join_match(match_id, bob)
    endpoint("tournament.finished")
    play(match_id, [alice, bob], X_WINS)
    create_guest("carol")
    cup = tournaments.create_tournament("Cup", "tictactoe", {}, 0, "eur", 4, None)
    tournaments.enter(cup.pk, alice)
    assert not Message.objects.exists() and not Delivery.objects.exists()


def join(alice: Player, bob: Player) -> None:
    services.join_match(services.create_match(alice, "tictactoe").match["id"], bob)


def enter_free(alice: Player, bob: Player) -> None:
    tournaments.enter(tournaments.create_tournament("Cup", "tictactoe", {}, 0, "eur", 4, None).pk, alice)


def new_guest(alice: Player, bob: Player) -> None:
    create_guest("carol")


@pytest.mark.parametrize("event", [join, enter_free, new_guest], ids=["match", "entry", "player"])
def test_an_event_rolled_back_writes_nothing(alice: Player, bob: Player, event: Callable) -> None:
    endpoint()
    with pytest.raises(RuntimeError), transaction.atomic():
        event(alice, bob)
        assert Message.objects.exists()  # written in the event's transaction...
        raise RuntimeError("something later in the transaction failed")
    assert not Message.objects.exists() and not Delivery.objects.exists()  # ...and gone with it
    event(alice, bob)
    assert Message.objects.exists()  # the same event committed is written


# --- end to end: a real receiver on loopback ------------------------------------------------


@override_settings(WEBHOOKS_ALLOWED_NETWORKS=["127.0.0.0/8"], WEBHOOKS_ALLOW_HTTP=True)
async def test_a_match_over_websockets_reaches_a_real_receiver_once_started_and_once_finished(
    alice: Player, bob: Player, queue: Callable, connect: Callable
) -> None:
    with receiver() as hook:
        made = await database_sync_to_async(endpoint)("match.started", "match.finished", url=hook.url)
        hook.secrets = await database_sync_to_async(made.signing_secrets)()
        await play_over_websockets(alice, bob, queue, connect)
        assert await send_due() == 2
        assert await send_due() == 0  # each delivered once: nothing is left to send
    ids = await database_sync_to_async(lambda: dict(Message.objects.values_list("type", "id")))()
    got = sorted((request.webhook_id, request.type, request.verified) for request in hook.received())
    assert got == sorted(
        [(ids["match.started"], "match.started", True), (ids["match.finished"], "match.finished", True)]
    )


@override_settings(WEBHOOKS_ALLOWED_NETWORKS=["127.0.0.0/8"], WEBHOOKS_ALLOW_HTTP=True)
def test_a_payment_coming_in_sends_entry_confirmed_out_to_a_real_receiver(alice: Player) -> None:
    with receiver() as hook:
        made = endpoint("entry.confirmed", url=hook.url)
        hook.secrets = made.signing_secrets()
        _cup, entry = paid_entry(alice)
        assert post_standard(standard_payment(entry), "msg_paid_out").json()["outcome"] == "processed"
        assert asyncio.run(send_due()) == 1
    [request] = hook.received()
    assert (request.type, request.verified) == ("entry.confirmed", True)
    assert request.webhook_id == Message.objects.get(type="entry.confirmed").id
    assert json.loads(request.body)["data"]["id"] == entry.pk
