"""Leaderboards, profiles and the batch ratings read: the API as a client
calls it, the ranks against a brute-force count, the pages, and the
leaderboard benchmark at a tiny size."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from games import services
from games.models import Player
from ratings import leaderboards
from ratings.models import Rating

pytestmark = pytest.mark.django_db(transaction=True)


def rate(player: Player, rating: float, pool: str = "chess.blitz", deviation: float = 80.0, games: int = 20) -> Player:
    Rating.objects.create(
        player=player, pool=pool, rating=rating, deviation=deviation, games=games, wins=games, updated_at=timezone.now()
    )
    return player


def get(path: str, player: Player | None = None) -> Any:
    headers = {"Authorization": f"Bearer {player.token}"} if player is not None else {}
    return Client(headers=headers).get(path)


@pytest.fixture
def board(make_player: Callable[[str], Player]) -> dict[str, Player]:
    """Seven settled blitz players (two tied), one provisional above them all,
    one settled in another pool."""
    ratings = {"ann": 1900.0, "ben": 1800.0, "cy": 1700.0, "dee": 1700.0, "eve": 1600.0, "fay": 1550.0, "gus": 1500.0}
    players = {name: rate(make_player(name), rating) for name, rating in ratings.items()}
    players["new"] = rate(make_player("new"), 2100.0, deviation=300.0, games=2)
    players["rapid"] = rate(make_player("rapid"), 2000.0, pool="chess.rapid")
    return players


def test_the_top_players_best_first_without_provisional_ones(board: dict[str, Player]) -> None:
    answer = get("/api/leaderboards/chess.blitz")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["pool"], body["game"], body["speed"], body["me"]) == ("chess.blitz", "chess", "blitz", None)
    assert [row["name"] for row in body["players"]] == [
        "ann",
        "ben",
        "dee",
        "cy",
        "eve",
        "fay",
        "gus",
    ]  # ties: newest first
    assert [row["rank"] for row in body["players"]] == [1, 2, 3, 3, 5, 6, 7]  # ties share a rank
    first = body["players"][0]
    assert first == {
        "rank": 1, "id": board["ann"].pk, "name": "ann", "bot": False, "rating": 1900.0, "deviation": 80.0, "games": 20,
    }  # fmt: skip
    limited = get("/api/leaderboards/chess.blitz?limit=3").json()["players"]
    assert [row["name"] for row in limited] == ["ann", "ben", "dee"]


def test_a_bot_is_on_the_leaderboard_marked_as_one(board: dict[str, Player]) -> None:
    Player.objects.filter(pk=board["ben"].pk).update(is_bot=True)
    rows = get("/api/leaderboards/chess.blitz").json()["players"]
    assert [row["bot"] for row in rows[:3]] == [False, True, False]


@pytest.mark.parametrize("limit", ["0", "201", "ten", "-5"])
def test_a_limit_out_of_range_is_a_bad_request(board: dict[str, Player], limit: str) -> None:
    answer = get(f"/api/leaderboards/chess.blitz?limit={limit}")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_the_caller_sees_their_rank_and_the_players_around_them(board: dict[str, Player]) -> None:
    me = get("/api/leaderboards/chess.blitz", board["eve"]).json()["me"]
    assert (me["rank"], me["name"], me["rating"]) == (5, "eve", 1600.0)
    assert [(row["name"], row["rank"]) for row in me["above"]] == [("dee", 3), ("cy", 3)]
    assert [(row["name"], row["rank"]) for row in me["below"]] == [("fay", 6), ("gus", 7)]
    tied = get("/api/leaderboards/chess.blitz?limit=1", board["dee"]).json()
    assert len(tied["players"]) == 1  # the limit is for the top, not for "me"
    assert (tied["me"]["rank"], [r["name"] for r in tied["me"]["above"]], [r["name"] for r in tied["me"]["below"]]) == (
        3, ["ann", "ben"], ["cy", "eve"],
    )  # fmt: skip
    top = get("/api/leaderboards/chess.blitz", board["ann"]).json()["me"]
    assert (top["rank"], top["above"], [row["name"] for row in top["below"]]) == (1, [], ["ben", "dee"])
    bottom = get("/api/leaderboards/chess.blitz", board["gus"]).json()["me"]
    assert ([row["name"] for row in bottom["above"]], bottom["below"]) == (["eve", "fay"], [])


def test_me_is_null_for_the_provisional_the_unrated_and_nobody(
    board: dict[str, Player], make_player: Callable[[str], Player]
) -> None:
    assert get("/api/leaderboards/chess.blitz", board["new"]).json()["me"] is None
    assert get("/api/leaderboards/chess.blitz", board["rapid"]).json()["me"] is None
    assert get("/api/leaderboards/chess.blitz", make_player("zed")).json()["me"] is None
    assert get("/api/leaderboards/chess.rapid", board["rapid"]).json()["me"]["rank"] == 1


@pytest.mark.parametrize("pool", ["chess.superfast", "go", "chess.blitz.extra", "CHESS"])
def test_an_unknown_pool_is_not_found(pool: str) -> None:
    answer = get(f"/api/leaderboards/{pool}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found" and pool in answer.json()["error"]["message"]
    assert Client().get(f"/leaderboards/{pool}/").status_code == 404


def test_a_pool_nobody_plays_yet_is_empty() -> None:
    body = get("/api/leaderboards/connect4.bullet").json()
    assert body["players"] == [] and body["me"] is None


def test_the_leaderboards_list_the_pools_with_rated_players(board: dict[str, Player]) -> None:
    listed = get("/api/leaderboards").json()["leaderboards"]
    assert listed == [
        {"pool": "chess.blitz", "game": "chess", "speed": "blitz", "players": 7, "rated": 8},
        {"pool": "chess.rapid", "game": "chess", "speed": "rapid", "players": 1, "rated": 1},
    ]


def test_ranks_match_a_brute_force_count(make_player: Callable[[str], Player]) -> None:
    """Random ratings with many ties and provisional players mixed in."""
    chance = random.Random(12)
    players = [
        rate(make_player(f"p{i}"), float(chance.choice(range(1400, 1700, 25))), deviation=chance.choice([60.0, 300.0]))
        for i in range(60)
    ]
    settled = {r.player_id: r.rating for r in Rating.objects.filter(deviation__lte=175)}
    ordered = sorted(settled, key=lambda pid: (-settled[pid], -pid))
    expected = {pid: 1 + sum(1 for other in settled.values() if other > settled[pid]) for pid in settled}
    top = leaderboards.top("chess.blitz", 200)
    assert [(row["id"], row["rank"]) for row in top] == [(pid, expected[pid]) for pid in ordered]
    for player in players:
        place = leaderboards.around(player.pk, "chess.blitz")
        if player.pk not in settled:
            assert place is None
            continue
        assert place is not None and place["rank"] == expected[player.pk]
        at = ordered.index(player.pk)
        assert [row["id"] for row in place["above"]] == ordered[max(0, at - 2) : at]
        assert [row["id"] for row in place["below"]] == ordered[at + 1 : at + 3]
        assert all(row["rank"] == expected[row["id"]] for row in [*place["above"], *place["below"]])


def test_a_rank_is_one_query_and_a_place_a_handful(board: dict[str, Player]) -> None:
    with CaptureQueriesContext(connection) as rank_queries:
        assert leaderboards.rank_of("chess.blitz", 1700.0) == 3
    assert len(rank_queries) == 1
    with CaptureQueriesContext(connection) as place_queries:
        leaderboards.around(board["eve"].pk, "chess.blitz")
    assert len(place_queries) == 4  # the caller, above, below, one count
    with CaptureQueriesContext(connection) as top_queries:
        leaderboards.top("chess.blitz", 50)
    assert len(top_queries) == 1


# --- profiles --------------------------------------------------------------------------------------


def test_a_profile_has_ratings_history_and_recent_matches(make_player: Callable[[str], Player]) -> None:
    alice, bob = make_player("alice"), make_player("bob")
    for rated in (True, False):
        match_id = services.create_match(alice, "tictactoe", {"rated": rated}).match["id"]
        services.join_match(match_id, bob)
        services.play_move(match_id, alice, {"cell": 0})
        services.play_move(match_id, bob, {"cell": 4})
        services.act(match_id, bob, "resign")
    waiting = services.create_match(bob, "chess").match["id"]
    profile = get(f"/api/players/{alice.pk}").json()
    assert (profile["id"], profile["name"], profile["bot"]) == (alice.pk, "alice", False)
    (rating,) = profile["ratings"]
    assert (rating["pool"], rating["games"], rating["wins"], rating["provisional"], rating["rank"]) == (
        "tictactoe", 1, 1, True, None,
    )  # fmt: skip
    assert rating["rating"] > 1500
    (change,) = profile["history"]
    assert (
        change["pool"] == "tictactoe" and change["before"] == 1500.0 and change["change"] > 0 and change["score"] == 1
    )
    assert [(m["game"], m["rated"], m["status"]) for m in profile["matches"]] == [
        ("tictactoe", False, "finished"),
        ("tictactoe", True, "finished"),
    ]
    rated_match = profile["matches"][1]
    assert rated_match["id"] == change["match"] and rated_match["seat"] == 0
    assert rated_match["opponents"] == [{"seat": 1, "id": bob.pk, "name": "bob", "bot": False}]
    assert {line["player"] for line in rated_match["result"]["ratings"]} == {alice.pk, bob.pk}
    bobs = get(f"/api/players/{bob.pk}").json()
    assert bobs["matches"][0] == {**bobs["matches"][0], "id": waiting, "status": "waiting", "result": None}
    assert bobs["history"][0]["change"] < 0


def test_a_settled_rating_shows_its_rank_on_the_profile(board: dict[str, Player]) -> None:
    ratings = get(f"/api/players/{board['dee'].pk}").json()["ratings"]
    assert [(r["pool"], r["rank"], r["provisional"]) for r in ratings] == [("chess.blitz", 3, False)]


def test_a_profile_ranks_every_pool_in_one_statement(
    board: dict[str, Player], django_assert_max_num_queries: Callable
) -> None:
    """A player rated in many pools (bots are) costs no query per pool."""
    gus = board["gus"]
    rate(board["ann"], 1800.0, pool="chess.rapid")
    for pool, rating in (("chess.rapid", 1900.0), ("tictactoe", 1500.0), ("connect4", 1500.0)):
        rate(gus, rating, pool=pool)
    with django_assert_max_num_queries(8):
        ratings = leaderboards.profile(gus)["ratings"]
    assert [(r["pool"], r["rank"]) for r in ratings] == [
        ("chess.blitz", 7), ("chess.rapid", 2), ("connect4", 1), ("tictactoe", 1),
    ]  # fmt: skip


@pytest.mark.parametrize("player_id", ["999999", "9223372036854775808"])
def test_an_unknown_player_is_not_found(player_id: str) -> None:
    answer = get(f"/api/players/{player_id}")
    assert answer.status_code in (400, 404)
    assert answer.json()["error"]["code"] in ("not_found", "bad_request")
    if player_id == "999999":
        assert answer.status_code == 404 and Client().get(f"/players/{player_id}/").status_code == 404


# --- the batch read ------------------------------------------------------------------------------------


def test_ratings_of_players_in_a_pool(board: dict[str, Player], make_player: Callable[[str], Player]) -> None:
    zed = make_player("zed")
    nobody = 999_999_999  # no such player: left out, not shown as a 1500 newcomer
    body = get(f"/api/ratings?pool=chess.blitz&players={board['ann'].pk},{zed.pk},{nobody},{board['new'].pk}").json()
    assert body["pool"] == "chess.blitz" and body["rated"] is None
    assert body["ratings"] == [
        {"player": board["ann"].pk, "rating": 1900.0, "deviation": 80.0, "games": 20, "provisional": False},
        {"player": zed.pk, "rating": 1500.0, "deviation": 350.0, "games": 0, "provisional": True},
        {"player": board["new"].pk, "rating": 2100.0, "deviation": 300.0, "games": 2, "provisional": True},
    ]


def test_ratings_of_a_matchs_players(board: dict[str, Player]) -> None:
    options = {"rated": True, "clock": {"initial": 180, "increment": 2}}
    match_id = services.create_match(board["ben"], "chess", options).match["id"]
    services.join_match(match_id, board["ann"])
    body = get(f"/api/ratings?match={match_id}").json()
    assert (body["pool"], body["rated"]) == ("chess.blitz", True)
    assert [(line["player"], line["rating"]) for line in body["ratings"]] == [
        (board["ben"].pk, 1800.0),
        (board["ann"].pk, 1900.0),
    ]
    assert get("/api/ratings?match=999999").status_code == 404


@pytest.mark.parametrize(
    "query, status",
    [("", 400), ("pool=chess", 400), ("players=1", 400), ("pool=chess&players=1,x", 400), ("pool=go&players=1", 404)],
)
def test_a_ratings_read_needs_a_match_or_a_pool_and_players(query: str, status: int) -> None:
    answer = get(f"/api/ratings?{query}")
    assert answer.status_code == status and answer.json()["error"]["code"] in ("bad_request", "not_found")


def test_the_schema_lists_the_new_calls() -> None:
    paths = get("/api/openapi.json").json()["paths"]
    assert {"/api/leaderboards", "/api/leaderboards/{pool}", "/api/players/{player_id}", "/api/ratings"} <= set(paths)


# --- pages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, script",
    [
        ("/leaderboards/", "ratings/leaderboards.js"),
        ("/leaderboards/chess.blitz/", "ratings/leaderboard.js"),
        ("/leaderboards/tictactoe/", "ratings/leaderboard.js"),
    ],
)
def test_the_pages_load_their_module(path: str, script: str) -> None:
    html = Client().get(path).content.decode()
    assert f'<script type="module" src="/static/{script}">' in html and 'for="name"' in html


def test_a_profile_page_loads_its_module(make_player: Callable[[str], Player]) -> None:
    player = make_player("alice")
    response = Client().get(f"/players/{player.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script type="module" src="/static/ratings/player.js">' in html and f'data-player="{player.pk}"' in html


@pytest.mark.parametrize(
    "path", ["/static/ratings/leaderboards.js", "/static/ratings/leaderboard.js", "/static/ratings/player.js"]
)
def test_the_modules_are_served(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200 and b"import" in b"".join(response.streaming_content)


def test_the_lobby_offers_rated_matches() -> None:
    assert 'id="rated" type="checkbox"' in Client().get("/").content.decode()


# --- the benchmark, tiny -------------------------------------------------------------------------------------


def test_the_leaderboard_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("benchleaderboard", players=300, repeat=5, out=str(tmp_path), in_transaction=True, stdout=out)
    report = (tmp_path / "leaderboard.md").read_text()
    assert "300 rated players" in report
    for measured in ("top 50", "rank with neighbours"):
        assert measured in report
    assert "median" in report and "p95" in report
    assert Rating.objects.count() == 0  # the filled rows were rolled back
    assert "wrote" in out.getvalue()
