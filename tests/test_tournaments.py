"""Tournaments: the staff API, entries, seeding with byes, tiebreaks, start
rules, and a full paid tournament of eight played over WebSockets while a
bracket socket watches every step."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import stripe
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from games import services
from games.models import Match, Player
from tests.conftest import open_path
from tournaments import services as tournaments
from tournaments.models import BracketMatch, Entry, Pairing, Tournament

pytestmark = pytest.mark.django_db(transaction=True)

STRIPE_SECRET = "whsec_tournament_tests"
X_WINS = [0, 3, 1, 4, 2]


def api(method: str, path: str, token: str | None = None, body: Any = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    client = Client()
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


CUP = {"name": "Winter cup", "game": "tictactoe", "entry_fee": 500, "currency": "EUR", "capacity": 8}


def test_staff_create_tournaments_with_an_apitoken(staff_token: str, alice: Player) -> None:
    created = api("post", "/api/tournaments", staff_token, CUP)
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["entry_fee"], body["currency"], body["capacity"]) == ("registration", 500, "eur", 8)
    assert body["entries"] == [] and body["bracket"] == []
    refused = api("post", "/api/tournaments", alice.token, CUP)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api("post", "/api/tournaments", None, CUP).status_code == 401
    listed = api("get", "/api/tournaments").json()["tournaments"]
    assert [t["name"] for t in listed] == ["Winter cup"]
    assert api("get", f"/api/tournaments/{body['id']}").json()["id"] == body["id"]
    assert api("get", "/api/tournaments/99999").status_code == 404


@pytest.mark.parametrize(
    "change, code",
    [
        ({"capacity": 1}, "bad_request"),
        ({"entry_fee": -1}, "bad_request"),
        ({"currency": "euro"}, "bad_request"),
        ({"game": "go"}, "unknown_game"),
        ({"options": {"clock": {"initial": 0}}}, "invalid_options"),
        ({"name": ""}, "bad_request"),
    ],
)
def test_bad_tournaments_are_refused(staff_token: str, change: dict, code: str) -> None:
    response = api("post", "/api/tournaments", staff_token, {**CUP, **change})
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not Tournament.objects.exists()


def test_entries(staff_token: str, alice: Player, bob: Player) -> None:
    paid = api("post", "/api/tournaments", staff_token, CUP).json()
    entered = api("post", f"/api/tournaments/{paid['id']}/entries", alice.token)
    assert entered.status_code == 201
    body = entered.json()
    assert body["entry"]["status"] == "pending_payment"
    reference = Entry.objects.get(pk=body["entry"]["id"]).client_reference_id
    assert body["payment"] == {"provider": "stripe", "client_reference_id": reference, "amount": 500, "currency": "eur"}
    again = api("post", f"/api/tournaments/{paid['id']}/entries", alice.token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_entered"
    view = api("get", f"/api/tournaments/{paid['id']}").json()
    assert view["entries"] == [{"id": body["entry"]["id"], "player": {"id": alice.pk, "name": "alice"},
                                "status": "pending_payment"}]  # fmt: skip

    free = api("post", "/api/tournaments", staff_token, {**CUP, "entry_fee": 0, "capacity": 2}).json()
    confirmed = api("post", f"/api/tournaments/{free['id']}/entries", alice.token).json()
    assert confirmed == {"entry": {"id": confirmed["entry"]["id"], "status": "confirmed"}, "payment": None}
    api("post", f"/api/tournaments/{free['id']}/entries", bob.token)
    carol = services.Player.objects.create(user=get_user_model().objects.create_user("carol"), name="carol")
    carol_token = _token_for(carol)
    full = api("post", f"/api/tournaments/{free['id']}/entries", carol_token)
    assert full.status_code == 409 and full.json()["error"]["code"] == "tournament_full"


def _token_for(player: Player) -> str:
    out = io.StringIO()
    call_command("apitoken", player.user.username, stdout=out)
    return out.getvalue().strip()


def test_apitoken_rotates_and_refuses_unknown_users(staff_token: str) -> None:
    assert api("post", "/api/tickets", staff_token).status_code == 200
    fresh = _token_for(Player.objects.get(user__username="organiser"))
    assert api("post", "/api/tickets", staff_token).status_code == 401  # the old token stopped working
    assert api("post", "/api/tickets", fresh).status_code == 200
    with pytest.raises(Exception, match="no user 'ghost'"):
        call_command("apitoken", "ghost", stdout=io.StringIO())


def test_seed_order_puts_top_seeds_apart() -> None:
    assert tournaments.seed_order(2) == [1, 2]
    assert tournaments.seed_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]


def free_cup(capacity: int = 8, **fields: Any) -> Tournament:
    return tournaments.create_tournament("Cup", "tictactoe", {}, 0, "eur", capacity, fields.get("starts_at"))


def test_byes_go_to_the_top_seeds(make_player: Callable) -> None:
    cup = free_cup()
    players = [make_player(f"seed{i}") for i in range(1, 6)]
    for player in players:
        tournaments.enter(cup.pk, player)
    tournaments.start(cup.pk)
    view = tournaments.tournament_view(Tournament.objects.get(pk=cup.pk))
    first = view["bracket"][0]["matches"]
    assert [m["status"] for m in first] == ["bye", "active", "bye", "bye"]
    assert [p["name"] if p else None for p in first[1]["players"]] == ["seed4", "seed5"]
    second = view["bracket"][1]["matches"]
    assert [p["name"] if p else None for p in second[0]["players"]] == ["seed1", None]
    assert [p["name"] for p in second[1]["players"]] == ["seed2", "seed3"]  # both got byes: they play at once
    assert second[1]["status"] == "active"
    assert len(view["bracket"]) == 3


def test_a_drawn_match_is_replayed_with_seats_swapped(alice: Player, bob: Player) -> None:
    cup = free_cup(2)
    tournaments.enter(cup.pk, alice)
    tournaments.enter(cup.pk, bob)
    tournaments.start(cup.pk)
    first = Match.objects.get(bracket__pairing__tournament=cup)
    for player, cell in zip([alice, bob] * 5, [0, 1, 2, 4, 3, 5, 7, 6, 8], strict=False):
        services.play_move(first.pk, player, {"cell": cell})
    assert Match.objects.get(pk=first.pk).result["winner"] is None
    tiebreak = Match.objects.exclude(pk=first.pk).get(bracket__pairing__tournament=cup)
    assert [s.player_id for s in tiebreak.seats.order_by("seat")] == [bob.pk, alice.pk]
    for player, cell in zip([bob, alice] * 3, X_WINS, strict=False):
        services.play_move(tiebreak.pk, player, {"cell": cell})
    done = Tournament.objects.get(pk=cup.pk)
    assert (done.status, done.winner_id) == ("finished", bob.pk)
    assert tournaments.tournament_view(done)["bracket"][0]["matches"][0]["games"] == [first.pk, tiebreak.pk]


def test_bracket_links_survive_a_deploy_where_both_releases_serve(alice: Player, bob: Player) -> None:
    """A match the previous release started carries its bracket slot only in
    games_match.pairing_id; it must still advance the bracket when it ends
    here. And a match started here is linked in that column too, for a
    previous-release process that may end it."""
    cup = free_cup(2)
    tournaments.enter(cup.pk, alice)
    tournaments.enter(cup.pk, bob)
    tournaments.start(cup.pk)
    first = Match.objects.get(bracket__pairing__tournament=cup)
    pairing = Pairing.objects.get(tournament=cup)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pairing_id FROM games_match WHERE id = %s", [first.pk])
        assert cursor.fetchone()[0] == pairing.pk
    BracketMatch.objects.filter(match_id=first.pk).delete()  # as the previous release would have left it
    for player, cell in zip([alice, bob] * 3, X_WINS, strict=False):
        services.play_move(first.pk, player, {"cell": cell})
    done = Tournament.objects.get(pk=cup.pk)
    assert (done.status, done.winner_id) == ("finished", alice.pk)
    assert BracketMatch.objects.get(match_id=first.pk).pairing_id == pairing.pk


def test_too_few_players_cancels_and_refunds(alice: Player, bob: Player) -> None:
    cup = tournaments.create_tournament("Cup", "tictactoe", {}, 500, "eur", 4, None)
    entry = tournaments.enter(cup.pk, alice)
    Entry.objects.filter(pk=entry.pk).update(status="confirmed", amount_paid=500)
    tournaments.enter(cup.pk, bob)
    assert tournaments.start(cup.pk).status == "cancelled"
    assert Entry.objects.get(pk=entry.pk).status == "refund_due"
    refused = api("post", f"/api/tournaments/{cup.pk}/entries", _token_for(bob))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "registration_closed"


def test_the_clock_starts_tournaments_at_their_start_time(alice: Player, bob: Player) -> None:
    due = free_cup(starts_at=timezone.now() - timedelta(seconds=1))
    later = free_cup(starts_at=timezone.now() + timedelta(hours=1))
    for cup in (due, later):
        tournaments.enter(cup.pk, alice)
        tournaments.enter(cup.pk, bob)
    assert tournaments.start_due() == 1
    assert Tournament.objects.get(pk=due.pk).status == "running"
    assert Tournament.objects.get(pk=later.pk).status == "registration"
    assert Pairing.objects.filter(tournament=due).count() == 1


async def test_the_clock_loop_runs_start_due_as_the_tournaments_app_registered_it(
    alice: Player, bob: Player, clock_loop: None
) -> None:
    """The engine's clock knows nothing of tournaments: the app's ``ready``
    registered ``start_due`` with ``games.clock.every_sweep``."""
    due = await database_sync_to_async(free_cup)()
    for player in (alice, bob):
        await database_sync_to_async(tournaments.enter)(due.pk, player)
    await Tournament.objects.filter(pk=due.pk).aupdate(starts_at=timezone.now() - timedelta(seconds=1))
    for _ in range(100):
        status = (await Tournament.objects.aget(pk=due.pk)).status
        if status != "registration":
            break
        await asyncio.sleep(0.05)
    assert status == "running"
    first = await BracketMatch.objects.select_related("pairing").aget(pairing__tournament=due)
    assert (first.pairing.round, first.pairing.slot) == (1, 0)


async def test_tournament_socket_for_unknown_tournament_closes_4404(transactional_db: None) -> None:
    from channels.testing import WebsocketCommunicator

    from gameproject.asgi import application

    communicator = WebsocketCommunicator(
        application, "/ws/tournaments/424242/", headers=[(b"origin", b"http://localhost:8000")]
    )
    assert (await communicator.connect())[0]
    assert await communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4404}


async def test_a_paid_tournament_of_eight_played_over_websockets(
    staff_token: str, make_player: Callable, connect: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    created = await database_sync_to_async(api)("post", "/api/tournaments", staff_token, CUP)
    cup_id = created.json()["id"]
    players = [await database_sync_to_async(make_player)(f"p{i}") for i in range(8)]
    watcher, _, _ = await open_path(f"/ws/tournaments/{cup_id}/")
    seen = [await watcher.next("tournament")]
    own: dict[int, Any] = {}
    for player in players:
        entered = await database_sync_to_async(api)("post", f"/api/tournaments/{cup_id}/entries", player.token)
        payment = entered.json()["payment"]
        body = json.dumps({
            "id": f"evt_{player.pk}", "object": "event", "type": "checkout.session.completed",
            "data": {"object": {"client_reference_id": payment["client_reference_id"], "amount_total": 500,
                                "currency": "eur", "payment_intent": f"pi_{player.pk}", "payment_status": "paid"}},
        })  # fmt: skip
        header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
        paid = await database_sync_to_async(Client().post)(
            "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert paid.status_code == 200
        own[player.pk], _, _ = await open_path(f"/ws/tournaments/{cup_id}/", player)
        await own[player.pk].next("tournament")
    while seen[-1]["tournament"]["confirmed"] < 8:
        seen.append(await watcher.next("tournament"))
    confirmed_counts = [view["tournament"]["confirmed"] for view in seen]
    assert confirmed_counts[-1] == 8 and confirmed_counts == sorted(confirmed_counts)
    assert set(range(1, 9)) <= set(confirmed_counts)  # the watcher saw each payment land

    started = await database_sync_to_async(api)("post", f"/api/tournaments/{cup_id}/start", staff_token)
    assert started.status_code == 200 and started.json()["status"] == "running"
    remaining = {p.pk: p for p in players}
    for round_size in (4, 2, 1):
        ready = {}
        for player_id in list(remaining):
            message = await own[player_id].next("match_ready", skip=("tournament",))
            ready[player_id] = message["match"]
        matches = {m["id"]: m for m in ready.values()}
        assert len(matches) == round_size
        for match in matches.values():
            x, o = (remaining[p["id"]] for p in match["players"])
            a, b = await connect(match["id"], x), await connect(match["id"], o)
            await a.next("snapshot")
            await b.next("snapshot")
            for index, cell in enumerate(X_WINS):
                await (a if index % 2 == 0 else b).move({"cell": cell})
                await a.next("event")
                await b.next("event")
            remaining.pop(o.pk)
    champion = next(iter(remaining.values()))
    while seen[-1]["tournament"]["status"] != "finished":
        seen.append(await watcher.next("tournament"))
    final = seen[-1]["tournament"]
    assert final["winner"] == {"id": champion.pk, "name": champion.name}
    assert [len(r["matches"]) for r in final["bracket"]] == [4, 2, 1]
    assert all(m["status"] == "finished" and m["winner"] for r in final["bracket"] for m in r["matches"])
    finished_counts = [sum(m["status"] == "finished" for r in v["tournament"]["bracket"] for m in r["matches"])
                       for v in seen]  # fmt: skip
    assert set(range(0, 8)) <= set(finished_counts)  # every match's end reached the bracket socket
    seqs = [view["tournament"]["seq"] for view in seen]
    assert seqs == sorted(set(seqs))
    await watcher.close()
    for socket in own.values():
        await socket.close()


def test_staff_run_tournaments_from_their_own_admin(alice: Player, bob: Player) -> None:
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("staff", "staff@example.com", "pw"))
    cup = free_cup()
    for player in (alice, bob):
        tournaments.enter(cup.pk, player)
    Entry.objects.filter(player=bob).update(status="refund_due")
    page = staff.get(f"/admin/tournaments/tournament/{cup.pk}/change/").content.decode()
    assert "alice" in page and "bob" in page  # the entries, inline
    flagged = staff.get("/admin/tournaments/entry/?needs_staff=yes").content.decode()
    assert "bob in Cup" in flagged and "alice in Cup" not in flagged
    Entry.objects.filter(player=bob).update(status="confirmed")
    started = staff.post(
        "/admin/tournaments/tournament/", {"action": "start", "_selected_action": [cup.pk]}, follow=True
    )
    assert "Cup: running" in started.content.decode()
    assert Tournament.objects.get(pk=cup.pk).status == "running"
