"""Ratings: the pools, the arithmetic, what a finished rated match changes
(over real sockets and the real service path, every kind of ending), what
changes nothing, exactly once under a race, the recomputation from the log,
and tournaments seeded by rating."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.utils import timezone

from games import services
from games.models import Player
from ratings.models import Rating, RatingChange
from ratings.pools import Speed, pool_for, pools, speed_of
from ratings.services import ratings_of
from ratings.skill import INITIAL_DEVIATION, INITIAL_RATING, Standing, rate
from tests.conftest import moves, pair, race, seated
from tournaments import services as tournaments
from tournaments.models import Pairing

BLITZ = {"rated": True, "clock": {"initial": 300, "increment": 0}}
E4, E5 = {"uci": "e2e4"}, {"uci": "e7e5"}


# --- pools and arithmetic (no database) ------------------------------------------------


@pytest.mark.parametrize(
    "initial, increment, speed",
    [
        (15, 0, Speed.ULTRABULLET),
        (29, 0, Speed.ULTRABULLET),
        (30, 0, Speed.BULLET),
        (60, 1, Speed.BULLET),  # 60 + 40 = 100 s
        (179, 0, Speed.BULLET),
        (180, 0, Speed.BLITZ),
        (120, 2, Speed.BLITZ),  # 120 + 80 = 200 s: the increment counts 40 times
        (479, 0, Speed.BLITZ),
        (480, 0, Speed.RAPID),
        (600, 5, Speed.RAPID),  # 800 s
        (1499, 0, Speed.RAPID),
        (1500, 0, Speed.CLASSICAL),
        (900, 15, Speed.CLASSICAL),  # 1,500 s
    ],
)
def test_speed_follows_lichess_boundaries(initial: int, increment: int, speed: Speed) -> None:
    assert speed_of(initial, increment) == speed
    assert pool_for("chess", {"clock": {"initial": initial, "increment": increment}}) == f"chess.{speed}"


def test_an_untimed_match_counts_in_the_game_pool() -> None:
    assert pool_for("tictactoe", {}) == "tictactoe"
    assert pool_for("chess", {"rated": True, "move_timeout": 30}) == "chess"
    every = pools()
    assert {"chess", "chess.bullet", "chess.blitz", "chess.classical", "connect4", "tictactoe.rapid"} <= set(every)
    assert every.index("chess") < every.index("chess.ultrabullet") < every.index("chess.classical")


def test_a_win_moves_ratings_apart_and_a_draw_moves_them_together() -> None:
    new = Standing()
    winner, loser = rate([new, new], 0)
    assert winner.rating > INITIAL_RATING > loser.rating
    assert winner.rating - INITIAL_RATING == pytest.approx(INITIAL_RATING - loser.rating)
    assert winner.deviation < INITIAL_DEVIATION and loser.deviation < INITIAL_DEVIATION
    strong, weak = Standing(1700, 80), Standing(1400, 80)
    after_draw = rate([strong, weak], None)
    assert after_draw[0].rating < 1700 and after_draw[1].rating > 1400
    upset = rate([strong, weak], 1)
    expected = rate([strong, weak], 0)
    assert 1700 - upset[0].rating > expected[0].rating - 1700  # losing to the weaker costs more than beating them earns


def test_settled_players_change_by_elo_like_amounts() -> None:
    """Two settled players of equal rating: the winner gains about 14 points
    (Elo with K = 28); a 400-point favourite is expected to score 10 to 1."""
    winner, _ = rate([Standing(1500, 70), Standing(1500, 70)], 0)
    assert 10 < winner.rating - 1500 < 20
    favourite, _ = rate([Standing(1900, 70), Standing(1500, 70)], 0)
    assert 0 < favourite.rating - 1900 < 3


def test_a_new_player_stops_being_provisional_after_ten_to_fifteen_games(settings: Any) -> None:
    player = Standing()
    games = 0
    while player.deviation > settings.RATINGS_PROVISIONAL_DEVIATION:
        games += 1
        player = rate([player, Standing(1500, 80)], games % 2)[0]
    assert 10 <= games <= 15


# --- a rated match over sockets ------------------------------------------------------------


def stored(player: Player, pool: str) -> Rating:
    return Rating.objects.get(player=player, pool=pool)


async def test_a_rated_match_won_by_resignation_rates_both_players_once(
    alice: Player, bob: Player, connect: Callable
) -> None:
    match_id = await seated(alice, bob, "chess", BLITZ)
    a, b = await pair(connect, match_id, alice, bob)
    await moves(a, b, [(0, E4), (1, E5)])
    await b.send({"type": "resign"})
    frames = [await socket.next("event") for socket in (a, b)]
    for frame in frames:
        result = frame["match"]["result"]
        assert (result["winner"], result["reason"]) == (0, "resign")
        by_seat = {line["seat"]: line for line in result["ratings"]}
        assert by_seat[0]["player"] == alice.pk and by_seat[1]["player"] == bob.pk
        assert {line["pool"] for line in by_seat.values()} == {"chess.blitz"}
        assert by_seat[0]["before"] == by_seat[1]["before"] == 1500.0
        assert by_seat[0]["change"] > 0 > by_seat[1]["change"]
        assert by_seat[0]["after"] == pytest.approx(by_seat[0]["before"] + by_seat[0]["change"], abs=0.11)
        assert by_seat[0]["provisional"] and by_seat[1]["provisional"]
    winner, loser = await database_sync_to_async(lambda: (stored(alice, "chess.blitz"), stored(bob, "chess.blitz")))()
    assert (winner.games, winner.wins, loser.games, loser.losses) == (1, 1, 1, 1)
    assert round(winner.rating, 1) == by_seat[0]["after"] and round(loser.rating, 1) == by_seat[1]["after"]
    assert await database_sync_to_async(RatingChange.objects.filter(match_id=match_id).count)() == 2
    # The match as anyone reads it later (the socket's snapshot) still shows the ratings.
    late = await connect(match_id)
    assert (await late.next("snapshot"))["match"]["result"]["ratings"] == result["ratings"]


async def test_an_agreed_draw_changes_ratings(alice: Player, bob: Player, connect: Callable) -> None:
    """alice won their first game, so the draw moves her down and bob up."""
    first = await database_sync_to_async(finish)(alice, bob, "chess", {"rated": True}, loser=bob)
    assert first["ratings"][0]["change"] > 0
    match_id = await seated(alice, bob, "chess", {"rated": True})
    a, b = await pair(connect, match_id, alice, bob)
    await moves(a, b, [(0, E4), (1, E5)])
    await a.send({"type": "offer_draw"})
    await a.next("event")
    await b.next("event")
    await b.send({"type": "accept_draw"})
    result = (await a.next("event"))["match"]["result"]
    assert (result["winner"], result["reason"]) == (None, "agreement")
    changes = {line["player"]: line["change"] for line in result["ratings"]}
    assert changes[alice.pk] < 0 < changes[bob.pk]
    assert await database_sync_to_async(lambda: stored(alice, "chess").draws)() == 1


def opened(alice: Player, bob: Player, game: str, options: dict[str, Any], opening: list[dict[str, Any]]) -> int:
    """A match of ``game`` where alice and bob already made the ``opening`` moves."""
    match_id = services.create_match(alice, game, options).match["id"]
    services.join_match(match_id, bob)
    for ply, move in enumerate(opening):
        services.play_move(match_id, (alice, bob)[ply % 2], move)
    return match_id


async def test_a_timeout_is_rated(alice: Player, bob: Player, connect: Callable, clock_loop: None) -> None:
    # Three seconds a move: the opening, made at once, never runs out on a busy machine.
    opening = [{"column": 3}, {"column": 3}]
    match_id = await database_sync_to_async(opened)(alice, bob, "connect4", {"rated": True, "move_timeout": 3}, opening)
    _, b = await pair(connect, match_id, alice, bob)
    flagged = await b.next("event", timeout=15)  # nobody sends anything: alice's turn runs out
    assert flagged["event"]["kind"] == "timeout"
    result = flagged["match"]["result"]
    assert result["winner"] == 1
    assert {line["player"]: line["change"] > 0 for line in result["ratings"]} == {alice.pk: False, bob.pk: True}
    assert await database_sync_to_async(lambda: stored(bob, "connect4").wins)() == 1


async def test_an_abandonment_is_rated(alice: Player, bob: Player, connect: Callable, clock_loop: None) -> None:
    match_id = await seated(alice, bob, "tictactoe", {"rated": True, "abandon_timeout": 1})
    a, b = await pair(connect, match_id, alice, bob)
    await moves(a, b, [(0, {"cell": 0}), (1, {"cell": 4})])
    await a.close()  # and stays away on her move
    abandoned = await b.next("event", timeout=5)
    assert abandoned["event"]["kind"] == "abandon"
    ratings = {line["player"]: line for line in abandoned["match"]["result"]["ratings"]}
    assert ratings[bob.pk]["change"] > 0 > ratings[alice.pk]["change"]


# --- what changes nothing ---------------------------------------------------------------------


def finish(
    alice: Player, bob: Player, game: str, options: dict[str, Any], loser: Player, opening: int = 1
) -> dict[str, Any]:
    """A match of ``game`` where each side moves ``opening`` times (chess), then ``loser`` resigns; its result."""
    match_id = services.create_match(alice, game, options).match["id"]
    services.join_match(match_id, bob)
    for ply in range(opening * 2):
        services.play_move(match_id, (alice, bob)[ply % 2], [E4, E5, {"uci": "g1f3"}, {"uci": "b8c6"}][ply])
    outcome = services.act(match_id, loser, "resign")
    assert outcome.step is not None
    return outcome.step.match["result"]


def test_a_casual_match_changes_nothing(alice: Player, bob: Player) -> None:
    result = finish(alice, bob, "chess", {}, loser=bob)
    assert result == {"winner": 0, "reason": "resign"}
    assert not Rating.objects.exists() and not RatingChange.objects.exists()


def test_a_match_decided_before_both_sides_moved_changes_nothing(alice: Player, bob: Player) -> None:
    assert "ratings" not in finish(alice, bob, "chess", {"rated": True}, loser=alice, opening=0)
    match_id = services.create_match(alice, "chess", {"rated": True}).match["id"]
    services.join_match(match_id, bob)
    services.play_move(match_id, alice, E4)
    outcome = services.act(match_id, bob, "resign")  # bob never moved
    assert outcome.step is not None and "ratings" not in outcome.step.match["result"]
    assert not Rating.objects.exists() and not RatingChange.objects.exists()
    assert ratings_of([alice.pk, bob.pk], "chess") == {alice.pk: 1500.0, bob.pk: 1500.0}


def test_an_aborted_match_changes_nothing(alice: Player, bob: Player) -> None:
    match_id = services.create_match(alice, "chess", {"rated": True}).match["id"]
    services.join_match(match_id, bob)
    services.play_move(match_id, alice, E4)
    services.play_move(match_id, bob, E5)
    step = services.abort_match(match_id, "staff")
    assert step.match["status"] == "aborted" and step.match["result"] is None
    assert not Rating.objects.exists() and not RatingChange.objects.exists()


def test_the_http_match_shows_the_ratings_its_end_changed(alice: Player, bob: Player) -> None:
    result = finish(alice, bob, "chess", {"rated": True}, loser=bob)
    match_id = RatingChange.objects.get(player=alice).match_id
    shown = HttpClient().get(f"/api/matches/{match_id}").json()["result"]
    assert shown == result and [row["player"] for row in shown["ratings"]] == [alice.pk, bob.pk]
    assert shown["ratings"][0]["change"] > 0 > shown["ratings"][1]["change"]


def test_the_rated_option_must_be_a_boolean(alice: Player) -> None:
    http = HttpClient(headers={"Authorization": f"Bearer {alice.token}"})
    for wrong in ("yes", 1, None, {"on": True}):
        answer = http.post(
            "/api/matches", {"game": "chess", "options": {"rated": wrong}}, content_type="application/json"
        )
        assert answer.status_code == 400, wrong
        assert answer.json()["error"]["code"] == "invalid_options" and "rated" in answer.json()["error"]["message"]
    created = http.post("/api/matches", {"game": "chess", "options": {"rated": True}}, content_type="application/json")
    assert created.status_code == 201 and created.json()["options"]["rated"] is True


# --- exactly once ----------------------------------------------------------------------------------


def test_both_players_resigning_at_once_rate_the_match_once(alice: Player, bob: Player) -> None:
    """Two enders race (run it on PostgreSQL too): one ends the match, the
    other is refused, and each player has exactly one rating change."""
    for _ in range(3):
        match_id = services.create_match(alice, "chess", {"rated": True}).match["id"]
        services.join_match(match_id, bob)
        services.play_move(match_id, alice, E4)
        services.play_move(match_id, bob, E5)
        outcomes = race([lambda m=match_id, p=p: services.act(m, p, "resign") for p in (alice, bob)])
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        ended = [outcome for outcome in outcomes if outcome.step is not None]
        refused = [outcome for outcome in outcomes if outcome.refusal is not None]
        assert len(ended) == 1 and len(refused) == 1 and refused[0].refusal.code == "match_not_active"
        assert RatingChange.objects.filter(match_id=match_id).count() == 2
    assert [stored(p, "chess").games for p in (alice, bob)] == [3, 3]
    assert RatingChange.objects.count() == 6


def test_two_matches_of_one_player_ending_at_once_both_count(make_player: Callable) -> None:
    """Two matches sharing alice end on two threads at the same instant: no
    deadlock, no lost update (her games count both), and the history
    recomputes to what is stored."""
    alice, bob, carol = make_player("alice"), make_player("bob"), make_player("carol")
    for _ in range(3):
        ids = []
        for opponent in (bob, carol):
            match_id = services.create_match(alice, "tictactoe", {"rated": True}).match["id"]
            services.join_match(match_id, opponent)
            services.play_move(match_id, alice, {"cell": 0})
            services.play_move(match_id, opponent, {"cell": 4})
            ids.append(match_id)
        outcomes = race([lambda m=m, p=p: services.act(m, p, "resign") for m, p in zip(ids, (bob, carol), strict=True)])
        assert all(not isinstance(outcome, Exception) and outcome.step is not None for outcome in outcomes), outcomes
    assert stored(alice, "tictactoe").games == stored(alice, "tictactoe").wins == 6
    call_command("verify_ratings", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_second_rating_of_one_match_is_refused_by_the_database(alice: Player, bob: Player) -> None:
    """The unique (match, player) constraint: the backstop if a match could
    ever be rated twice."""
    from django.db import IntegrityError, transaction

    from ratings.services import record_match

    finish(alice, bob, "chess", {"rated": True}, loser=bob)
    change = RatingChange.objects.first()
    assert change is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        record_match(change.match_id, "chess", [alice.pk, bob.pk], 0, change.at)
    assert RatingChange.objects.count() == 2 and stored(alice, "chess").games == 1


# --- recomputation from the log --------------------------------------------------------------------


def history(make_player: Callable) -> list[Player]:
    """A real history: wins, draws, casual and aborted matches, two pools."""
    alice, bob, carol = make_player("alice"), make_player("bob"), make_player("carol")
    finish(alice, bob, "chess", {"rated": True}, loser=bob)
    finish(bob, carol, "chess", {"rated": True}, loser=bob, opening=2)
    finish(carol, alice, "chess", BLITZ, loser=alice)
    finish(alice, carol, "chess", {}, loser=alice)  # casual
    finish(alice, carol, "chess", {"rated": True}, loser=carol, opening=0)  # nobody moved
    drawn = services.create_match(alice, "tictactoe", {"rated": True}).match["id"]
    services.join_match(drawn, carol)
    for seat, cell in enumerate([0, 4, 8, 1, 7, 6, 2, 5, 3]):
        services.play_move(drawn, (alice, carol)[seat % 2], {"cell": cell})
    assert services.load_match(drawn).match["result"]["winner"] is None
    aborted = services.create_match(alice, "tictactoe", {"rated": True}).match["id"]
    services.join_match(aborted, bob)
    services.play_move(aborted, alice, {"cell": 0})
    services.play_move(aborted, bob, {"cell": 1})
    services.abort_match(aborted, "staff")
    return [alice, bob, carol]


def verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ratings", stdout=out, stderr=err)
    except CommandError as failure:
        return out.getvalue(), err.getvalue() + str(failure)
    return out.getvalue(), err.getvalue()


def test_verify_ratings_recomputes_a_real_history(make_player: Callable) -> None:
    history(make_player)
    out, err = verify()
    assert "recomputed 5 rated match(es), 7 rating(s) and 8 rating change(s): 0 difference(s)" in out, out
    assert err == ""


def test_verify_ratings_catches_tampering(make_player: Callable) -> None:
    alice, bob, _carol = history(make_player)
    Rating.objects.filter(player=alice, pool="chess").update(rating=2400.0)
    out, err = verify()
    assert f"player {alice.pk} in chess: rating stored 2400.0, recomputed" in err
    assert "1 difference(s)" in out and "differ from the recomputation" in err
    Rating.objects.filter(player=alice, pool="chess").update(rating=stored(bob, "chess").rating)  # still wrong
    change = RatingChange.objects.filter(player=bob).order_by("id").first()
    assert change is not None
    change.delete()
    _, err = verify()
    assert f"match {change.match_id}, player {bob.pk}: no rating change stored" in err
    assert f"player {alice.pk} in chess: rating stored" in err


# --- tournaments seed by rating ------------------------------------------------------------------


def test_tournaments_seed_by_rating_with_entry_order_breaking_ties(make_player: Callable, staff_token: str) -> None:
    """Six entrants: seeds by blitz rating (the tournament's pool), the two
    unrated ones (1500) in the order they entered; byes go to seeds 1 and 2."""
    names = ["ann", "ben", "cy", "dee", "eve", "fay"]
    players = {name: make_player(name) for name in names}
    now = timezone.now()
    for name, rating in {"ben": 1800.0, "dee": 1650.0, "eve": 1400.0, "fay": 1500.0}.items():
        Rating.objects.create(player=players[name], pool="chess.blitz", rating=rating, deviation=80, updated_at=now)
    Rating.objects.create(
        player=players["ann"], pool="chess", rating=2500.0, deviation=80, updated_at=now
    )  # other pool
    created = HttpClient(headers={"Authorization": f"Bearer {staff_token}"}).post(
        "/api/tournaments",
        json.dumps({"name": "Blitz", "game": "chess", "options": BLITZ, "capacity": 8}),
        content_type="application/json",
    )
    tournament_id = created.json()["id"]
    for name in names:
        tournaments.enter(tournament_id, players[name])
    tournaments.start(tournament_id)
    first_round = Pairing.objects.filter(tournament_id=tournament_id, round=1).order_by("slot")
    seen = [
        (pairing.entry_a.player.name, pairing.entry_b.player.name if pairing.entry_b else None)
        for pairing in first_round
    ]
    # Seeds: ben 1800, dee 1650, then ann and cy (unrated: 1500) and fay (a
    # rated 1500, who entered last: entry order breaks the tie), eve 1400.
    # 8 slots: 1 v 8 (a bye), 4 v 5, 2 v 7 (a bye), 3 v 6.
    assert seen == [("ben", None), ("cy", "fay"), ("dee", None), ("ann", "eve")]
