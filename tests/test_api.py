"""The HTTP API through Django's test client: status codes, JSON shapes,
authentication (Bearer token and session cookie with CSRF) and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from games.engine import NoOptions, get_game
from games.models import Match, MatchEvent, Player, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def post(client: Client, path: str, body: Any = None, token: str | None = None, **extra: Any):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return client.post(path, data, content_type="application/json", **headers, **extra)


def get(client: Client, path: str, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(path, **headers)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def players(client: Client) -> tuple[dict, dict]:
    alice = post(Client(), "/api/players", {"name": "alice"}).json()
    bob = post(Client(), "/api/players", {"name": "bob"}).json()
    return alice, bob


@pytest.fixture
def match(client: Client, players: tuple[dict, dict]) -> dict:
    alice, bob = players
    created = post(client, "/api/matches", {"game": "tictactoe"}, alice["token"]).json()
    return post(client, f"/api/matches/{created['id']}/join", token=bob["token"]).json()


def test_create_player_returns_token_and_logs_the_session_in(client: Client) -> None:
    response = post(client, "/api/players", {"name": "  alice "})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "token"}
    assert body["name"] == "alice"
    player = Player.objects.get(pk=body["id"])
    assert player.token_hash != body["token"]  # only the hash is stored
    assert client.session["_auth_user_id"] == str(player.user_id)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": 42}, {"name": "x" * 41}, {"name": "a", "admin": True}, [], "{"],
)
def test_create_player_refuses_bad_bodies(client: Client, body: Any) -> None:
    assert_error(post(client, "/api/players", body), 400, "bad_request")
    assert not Player.objects.exists()


def test_list_games(client: Client) -> None:
    games = client.get("/api/games").json()["games"]
    assert [g["slug"] for g in games] == ["tictactoe", "connect4", "chess", "battleship", "reversi", "lightcycles"]
    assert games[0] == {
        "slug": "tictactoe",
        "name": "Tic-tac-toe",
        "min_players": 2,
        "max_players": 2,
        "allows_draw_offers": True,
        "hidden_information": False,
        "move_schema": get_game("tictactoe").Move.model_json_schema(),
        "options_schema": NoOptions.model_json_schema(),
        "board_script": "classic_games/tictactoe.js",
        "board_url": "/static/classic_games/tictactoe.js",
        "tick_ms": None,
    }
    assert games[0]["move_schema"]["properties"]["cell"]["type"] == "integer"
    assert games[3]["hidden_information"] is True  # battleship hides the fleets


def test_create_match_puts_creator_on_seat_zero(client: Client, players: tuple[dict, dict]) -> None:
    alice, _ = players
    response = post(client, "/api/matches", {"game": "tictactoe"}, alice["token"])
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"id", "game", "status", "seq", "players", "turn", "state", "result"}
    assert body["status"] == "waiting"
    assert body["players"][0]["seat"] == 0 and body["players"][0]["id"] == alice["id"]
    assert body["turn"] == [] and body["result"] is None
    assert body["state"] == {"board": [None] * 9}


def test_create_match_refusals(client: Client, players: tuple[dict, dict]) -> None:
    alice, _ = players
    assert_error(post(client, "/api/matches", {"game": "tictactoe"}), 401, "not_authenticated")
    assert_error(post(client, "/api/matches", {"game": "tictactoe"}, "wrong-token"), 401, "not_authenticated")
    assert_error(post(client, "/api/matches", {"game": "chesss"}, alice["token"]), 400, "unknown_game")
    assert_error(
        post(client, "/api/matches", {"game": "tictactoe", "options": {"x": 1}}, alice["token"]), 400, "invalid_options"
    )
    assert_error(post(client, "/api/matches", {"game": 5}, alice["token"]), 400, "bad_request")
    assert not Match.objects.exists()


def test_join_activates_and_is_idempotent(client: Client, players: tuple[dict, dict], match: dict) -> None:
    _, bob = players
    assert match["status"] == "active"
    assert match["turn"] == [0]
    again = post(client, f"/api/matches/{match['id']}/join", token=bob["token"])
    assert again.status_code == 200
    assert again.json()["seq"] == match["seq"]


def test_join_full_match_is_409(client: Client, match: dict) -> None:
    carol = post(Client(), "/api/players", {"name": "carol"}).json()
    assert_error(post(client, f"/api/matches/{match['id']}/join", token=carol["token"]), 409, "match_full")
    assert_error(post(client, "/api/matches/999999/join", token=carol["token"]), 404, "not_found")


def test_get_match_anonymously_and_as_player(client: Client, players: tuple[dict, dict], match: dict) -> None:
    alice, _ = players
    anonymous = client.get(f"/api/matches/{match['id']}")
    assert anonymous.status_code == 200
    assert anonymous.json()["players"] == match["players"]
    assert get(client, f"/api/matches/{match['id']}", alice["token"]).json()["state"] == match["state"]
    assert_error(client.get("/api/matches/999999"), 404, "not_found")


def test_moves_and_events(client: Client, players: tuple[dict, dict], match: dict) -> None:
    alice, bob = players
    path = f"/api/matches/{match['id']}"
    first = post(client, f"{path}/moves", {"move": {"cell": 4}, "seq": 2}, alice["token"])
    assert first.status_code == 200
    assert first.json()["state"]["board"][4] == "X"
    assert first.json()["seq"] == 3 and first.json()["turn"] == [1]
    post(client, f"{path}/moves", {"move": {"cell": 0}}, bob["token"])
    events = client.get(f"{path}/events?after=2").json()
    assert events["seq"] == 4
    assert [(e["seq"], e["kind"], e["seat"], e["move"]) for e in events["events"]] == [
        (3, "move", 0, {"cell": 4}),
        (4, "move", 1, {"cell": 0}),
    ]
    assert all(e["at"].endswith("Z") for e in events["events"])
    everything = client.get(f"{path}/events").json()["events"]
    assert [e["kind"] for e in everything] == ["join", "join", "move", "move"]
    assert client.get(f"{path}/events?after=4").json() == {"seq": 4, "events": []}
    assert_error(client.get(f"{path}/events?after=-1"), 400, "bad_request")
    assert_error(client.get(f"{path}/events?after=x"), 400, "bad_request")


@pytest.mark.parametrize(
    "who, body, status, code",
    [
        ("bob", {"move": {"cell": 0}}, 409, "not_your_turn"),
        ("alice", {"move": {"cell": 9}}, 422, "illegal_move"),
        ("carol", {"move": {"cell": 0}}, 403, "not_a_player"),
        ("alice", {"move": {"cell": 0}, "seq": 1}, 409, "stale_seq"),
        ("alice", {"move": {"cell": 0}, "seq": "2"}, 400, "bad_request"),
        ("alice", {"move": "e2e4"}, 400, "bad_request"),
        ("alice", {"cell": 0}, 400, "bad_request"),
        ("alice", "not json", 400, "bad_request"),
    ],
)
def test_refused_moves_change_nothing(
    client: Client, players: tuple[dict, dict], match: dict, who: str, body: Any, status: int, code: str
) -> None:
    alice, bob = players
    tokens = {
        "alice": alice["token"],
        "bob": bob["token"],
        "carol": post(Client(), "/api/players", {"name": "c"}).json()["token"],
    }
    response = post(client, f"/api/matches/{match['id']}/moves", body, tokens[who])
    assert_error(response, status, code)
    assert Match.objects.get(pk=match["id"]).seq == match["seq"]
    assert MatchEvent.objects.filter(match_id=match["id"], kind="move").count() == 0


def test_move_on_finished_match_is_409(client: Client, players: tuple[dict, dict], match: dict) -> None:
    alice, bob = players
    path = f"/api/matches/{match['id']}/moves"
    for token, cell in [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)]:
        assert post(client, path, {"move": {"cell": cell}}, token["token"]).status_code == 200
    final = client.get(f"/api/matches/{match['id']}").json()
    assert final["status"] == "finished" and final["result"] == {"winner": 0, "reason": "three_in_a_row"}
    assert_error(post(client, path, {"move": {"cell": 5}}, bob["token"]), 409, "match_not_active")


def test_session_cookie_auth_needs_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/").status_code == 200  # sets the csrftoken cookie
    assert post(browser, "/api/players", {"name": "alice"}).status_code == 201  # exempt, logs in
    assert_error(post(browser, "/api/matches", {"game": "tictactoe"}), 403, "csrf_failed")
    csrf = browser.cookies["csrftoken"].value
    created = post(browser, "/api/matches", {"game": "tictactoe"}, HTTP_X_CSRFTOKEN=csrf)
    assert created.status_code == 201
    assert Match.objects.count() == 1


def test_bearer_calls_need_no_csrf_token(players: tuple[dict, dict]) -> None:
    alice, _ = players
    bot = Client(enforce_csrf_checks=True)
    assert post(bot, "/api/matches", {"game": "tictactoe"}, alice["token"]).status_code == 201


def test_tickets_are_short_lived_and_need_auth(client: Client, players: tuple[dict, dict]) -> None:
    alice, _ = players
    assert_error(post(client, "/api/tickets"), 401, "not_authenticated")
    response = post(client, "/api/tickets", token=alice["token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ticket", "expires_in"} and 0 < body["expires_in"] <= 60
    stored = Ticket.objects.get()
    assert stored.key_hash != body["ticket"] and stored.player_id == alice["id"]


def test_openapi_schema_is_served(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/players", "/api/matches", "/api/matches/{match_id}/moves", "/api/tickets"} <= set(schema["paths"])
