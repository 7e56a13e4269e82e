"""Bad input never gets an HTML 500: every refusal under /api/ and /webhooks/
is a clear status with the JSON error envelope, and a WebSocket path that
matches no route is refused at the handshake.

Many of these only broke on PostgreSQL, which refuses NUL characters and
lone surrogates in text, time zone offsets beyond what it stores and
integers over its column types; CI runs this file there."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
import websockets.sync.client
from django.test import Client

from games.models import Match, Player
from tests.conftest import open_path
from tests.live import running_servers
from tournaments.models import Tournament

pytestmark = pytest.mark.django_db(transaction=True)

BAD_TEXT = ["\x00", "al\x00ice", "\ud800", "x\udfffy"]
CUP = {"name": "Winter cup", "game": "tictactoe", "entry_fee": 500, "currency": "EUR", "capacity": 8}
INT_MAX = 2**31 - 1  # PostgreSQL's integer, the type of every count and amount column


def call(method: str, path: str, body: Any = None, token: str | None = None, client: Client | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    client = client or Client()
    if method == "get":
        return client.get(path, **headers)
    data = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {})
    return getattr(client, method)(path, data, content_type="application/json", **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


# --- text ----------------------------------------------------------------------


@pytest.mark.parametrize("text", BAD_TEXT)
def test_player_names_with_nul_or_lone_surrogates_are_refused(text: str) -> None:
    error = assert_error(call("post", "/api/players", {"name": text}), 400, "bad_request")
    assert "name" in error["message"]
    assert not Player.objects.exists()


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize("field", ["name", "game", "currency"])
def test_tournament_text_with_nul_or_lone_surrogates_is_refused(staff_token: str, field: str, text: str) -> None:
    response = call("post", "/api/tournaments", {**CUP, field: CUP[field][:2] + text}, staff_token)
    error = assert_error(response, 400, "bad_request")
    assert field in error["message"]
    assert not Tournament.objects.exists()


@pytest.mark.parametrize("body", [{"game": "tic\x00tactoe"}, {"game": "\ud800"},
                                  {"game": "tictactoe", "options": {"clock\x00": 1}},
                                  {"game": "tictactoe", "options": {"move_timeout": "\x00"}}])  # fmt: skip
def test_match_creation_text_with_nul_or_lone_surrogates_is_refused(alice: Player, body: dict) -> None:
    assert_error(call("post", "/api/matches", body, alice.token), 400, "bad_request")
    assert not Match.objects.exists()


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "move",
    [
        {"uci": "e2e4", "claim_draw": "\x00"},
        {"uci": "e2\x00e4"},
        {"uci\ud800": 1},
        {"uci": nested(40)},  # deeper than any game's move (and than a WebSocket message may be)
        '{"move": ' + "[" * 5000 + "]" * 5000 + "}",  # deeper than the JSON decoder goes
    ],
    ids=["nul-value", "nul-uci", "surrogate-key", "40-deep", "5000-deep"],
)
def test_moves_with_nul_surrogates_or_deep_nesting_are_refused(alice: Player, bob: Player, move: Any) -> None:
    created = call("post", "/api/matches", {"game": "chess"}, alice.token).json()
    call("post", f"/api/matches/{created['id']}/join", token=bob.token)
    body = move if isinstance(move, str) else {"move": move}
    response = call("post", f"/api/matches/{created['id']}/moves", body, alice.token)
    assert_error(response, 400, "bad_request")
    assert Match.objects.get(pk=created["id"]).seq == 2  # the two joins, no move


@pytest.mark.parametrize("query", ["game=%00", "game=tic%00tactoe", "game=" + "x" * 200])
def test_the_match_list_filter_refuses_bad_text(query: str) -> None:
    error = assert_error(Client().get(f"/api/matches?{query}"), 400, "bad_request")
    assert "game" in error["message"]


# --- numbers and dates -----------------------------------------------------------


@pytest.mark.parametrize("fee", [2**70, INT_MAX + 1, 100_000_000])
def test_entry_fees_are_bounded(staff_token: str, fee: int) -> None:
    error = assert_error(call("post", "/api/tournaments", {**CUP, "entry_fee": fee}, staff_token), 400, "bad_request")
    assert "entry_fee" in error["message"]
    assert not Tournament.objects.exists()


def test_the_largest_entry_fee_is_accepted(staff_token: str) -> None:
    created = call("post", "/api/tournaments", {**CUP, "entry_fee": 99_999_999}, staff_token)
    assert created.status_code == 201 and created.json()["entry_fee"] == 99_999_999


@pytest.mark.parametrize("seq", [2**70, INT_MAX + 1])
def test_a_move_seq_beyond_any_match_is_refused(alice: Player, bob: Player, seq: int) -> None:
    created = call("post", "/api/matches", {"game": "tictactoe"}, alice.token).json()
    call("post", f"/api/matches/{created['id']}/join", token=bob.token)
    response = call("post", f"/api/matches/{created['id']}/moves", {"move": {"cell": 4}, "seq": seq}, alice.token)
    assert "seq" in assert_error(response, 400, "bad_request")["message"]


@pytest.mark.parametrize("after", [2**70, 2**63])
def test_events_after_a_huge_seq_are_refused(alice: Player, after: int) -> None:
    created = call("post", "/api/matches", {"game": "tictactoe"}, alice.token).json()
    error = assert_error(Client().get(f"/api/matches/{created['id']}/events?after={after}"), 400, "bad_request")
    assert "after" in error["message"]


@pytest.mark.parametrize("path", ["/api/matches/{huge}", "/api/matches/{huge}/events", "/api/tournaments/{huge}"])
def test_ids_beyond_any_row_are_not_found(path: str) -> None:
    assert_error(Client().get(path.format(huge=2**70)), 404, "not_found")


@pytest.mark.parametrize(
    "starts_at",
    [
        "2030-01-01T12:00:00+20:00",  # an offset no time zone has (PostgreSQL stores at most 15:59)
        "2030-01-01T12:00:00-16:00",
        "9999-12-31T23:00:00-10:00",  # year 10000 in UTC
        "0001-01-01T00:30:00+01:00",  # year 0 in UTC
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:01Z",
    ],
)
def test_start_dates_out_of_range_are_refused(staff_token: str, starts_at: str) -> None:
    response = call("post", "/api/tournaments", {**CUP, "starts_at": starts_at}, staff_token)
    assert "starts_at" in assert_error(response, 400, "bad_request")["message"]
    assert not Tournament.objects.exists()


@pytest.mark.parametrize(
    "starts_at, stored",
    [
        ("2030-01-01T12:00:00+14:00", "2029-12-31T22:00:00Z"),
        ("2030-01-01T12:00:00-12:00", "2030-01-02T00:00:00Z"),
        ("2030-01-01T12:00:00", "2030-01-01T12:00:00Z"),  # no offset: UTC
    ],
)
def test_start_dates_are_stored_in_utc(staff_token: str, starts_at: str, stored: str) -> None:
    created = call("post", "/api/tournaments", {**CUP, "starts_at": starts_at}, staff_token)
    assert created.status_code == 201, created.content
    assert Client().get(f"/api/tournaments/{created.json()['id']}").json()["starts_at"] == stored


# --- the error envelope for every status -------------------------------------------


@pytest.mark.parametrize("method, path", [("get", "/api/nothing-here"), ("post", "/api/nothing/here"),
                                          ("get", "/api/games/"), ("get", "/api/matches/1/nothing"),
                                          ("get", "/webhooks/nothing"), ("post", "/webhooks/stripe/more")])  # fmt: skip
def test_unknown_urls_get_a_json_404(method: str, path: str) -> None:
    assert_error(call(method, path), 404, "not_found")


@pytest.mark.parametrize("method, path, allowed", [
    ("get", "/api/players", "POST"), ("delete", "/api/matches/1", "GET"), ("put", "/api/tickets", "POST"),
    ("get", "/webhooks/stripe", "POST"), ("get", "/webhooks/payments/acme", "POST"),
])  # fmt: skip
def test_wrong_methods_get_a_json_405(method: str, path: str, allowed: str) -> None:
    response = call(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert allowed in response["Allow"]


@pytest.mark.parametrize("path", ["/api/players", "/api/matches/1/moves", "/webhooks/stripe",
                                  "/webhooks/payments/acme"])  # fmt: skip
def test_a_body_over_the_upload_limit_gets_a_json_413(
    settings: Any, monkeypatch: pytest.MonkeyPatch, alice: Player, path: str
) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test")
    monkeypatch.setenv("PAYMENTS_ACME_WEBHOOK_SECRET", "whsec_dGVzdA==")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert_error(call("post", path, {"name": "x" * 2000}, alice.token), 413, "request_too_large")
    assert Player.objects.count() == 1


def test_an_unexpected_error_is_a_json_500_and_its_traceback_is_logged_not_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("games.lobby.list_matches", broken)
    monkeypatch.setattr("payments.webhooks.secrets_from", broken)
    client = Client(raise_request_exception=False)
    for response in (client.get("/api/matches"), call("post", "/webhooks/stripe", {}, client=client)):
        assert_error(response, 500, "internal_error")
        assert b"secret internals" not in response.content and b"Traceback" not in response.content
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR and record.exc_info]
    assert len(logged) == 2 and all("secret internals" in str(record.exc_info[1]) for record in logged)


def test_a_refusal_before_any_view_runs_is_enveloped_too() -> None:
    """A host not in ALLOWED_HOSTS is refused by Django's middleware, before
    the URL is even resolved: JSON under /api/, Django's own page elsewhere."""
    assert_error(Client().get("/api/games", HTTP_HOST="evil.example"), 400, "bad_request")
    page = Client().get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_the_openapi_schema_documents_the_error_responses() -> None:
    schema = Client().get("/api/openapi.json").json()
    envelope = schema["components"]["schemas"]["ErrorOut"]
    assert set(envelope["properties"]) == {"error"}
    for path, statuses in [
        ("/api/players", {"201", "400", "413", "500"}),
        ("/api/matches/{match_id}/moves", {"200", "400", "401", "403", "404", "409", "413", "422", "500"}),
        ("/api/tournaments", {"201", "400", "401", "403", "413", "500"}),
    ]:
        responses = schema["paths"][path]["post"]["responses"]
        assert statuses <= set(responses), (path, set(responses))
        for status in statuses - {"200", "201"}:
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert {"400", "404", "500"} <= set(schema["paths"]["/api/matches/{match_id}"]["get"]["responses"])


# --- WebSocket routing ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/nowhere/", "/ws/matches/abc/", "/ws/matches/1/extra/", "/"])
async def test_a_websocket_path_with_no_route_is_refused_cleanly(
    transactional_db: None, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    client, connected, _ = await open_path(path)
    assert not connected
    await client.communicator.wait()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_real_server_refuses_what_no_route_takes_without_a_traceback(transactional_db: None, tmp_path: Path) -> None:
    """The same through daphne: the handshake is refused with 403 and the
    API's answers are JSON, with nothing in the server's log but access lines."""
    with running_servers(tmp_path) as (url,):
        socket_url = url.replace("http://", "ws://")
        for path in ("/ws/nowhere/", "/ws/matches/abc/"):
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                websockets.sync.client.connect(socket_url + path, origin="http://127.0.0.1", open_timeout=5)
            assert refused.value.response.status_code == 403
        missing = httpx.get(f"{url}/api/nothing")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        wrong = httpx.delete(f"{url}/webhooks/stripe")
        assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
        huge = httpx.post(f"{url}/api/players", content=b"x" * (3 * 1024 * 1024))
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"
    log = (tmp_path / "daphne0.log").read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
