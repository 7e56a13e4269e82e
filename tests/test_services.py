"""The match service: the one path every transport uses. These tests call it
directly, including from several threads at once (each thread has its own
database connection, as two server processes would)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from games import services
from games.models import Match, MatchEvent, Player
from games.services import GameError
from tests.conftest import race


def move(match_id: int, player: Player, cell: int, seq: int | None = None) -> dict[str, Any]:
    return services.play_move(match_id, player, {"cell": cell}, seq)


def assert_state_is_replay_of_log(match_id: int) -> None:
    match = Match.objects.get(pk=match_id)
    _, replayed = services.replay_since(match_id, 0, limit=10_000)
    assert replayed, "a match with a log replays to at least one step"
    final = replayed[-1][1]
    assert (final["seq"], final["state"], final["status"], final["result"]) == (
        match.seq,
        match.state,
        match.status,
        match.result,
    )
    seqs = list(MatchEvent.objects.filter(match_id=match_id).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, match.seq + 1))


def test_creator_takes_seat_zero_and_match_waits(alice: Player) -> None:
    created = services.create_match(alice, "tictactoe")
    data = created.match
    assert data["status"] == "waiting"
    assert data["players"] == [{"seat": 0, "id": alice.pk, "name": "alice"}]
    assert created.presence == {0: {"connected": False, "left_at": None}}
    assert data["seq"] == 1
    assert MatchEvent.objects.get(match_id=data["id"]).kind == "join"


def test_match_becomes_active_when_seats_are_full(active_match: dict, bob: Player) -> None:
    assert active_match["status"] == "active"
    assert [p["id"] for p in active_match["players"]][1] == bob.pk
    assert Match.objects.get(pk=active_match["id"]).started_at is not None


def test_joining_twice_is_harmless(active_match: dict, bob: Player) -> None:
    again = services.join_match(active_match["id"], bob).match
    assert again["seq"] == active_match["seq"]
    assert len(again["players"]) == 2


def test_third_player_gets_match_full(active_match: dict, make_player: Callable) -> None:
    with pytest.raises(GameError) as refused:
        services.join_match(active_match["id"], make_player("carol"))
    assert refused.value.code == "match_full"


def test_unknown_game_and_bad_options_are_refused(alice: Player) -> None:
    with pytest.raises(GameError) as unknown:
        services.create_match(alice, "go")
    assert unknown.value.code == "unknown_game"
    with pytest.raises(GameError) as options:
        services.create_match(alice, "tictactoe", {"speed": 3})
    assert options.value.code == "invalid_options"
    with pytest.raises(GameError) as seats:
        services.create_match(alice, "tictactoe", seats=3)
    assert seats.value.code == "invalid_options"
    assert not Match.objects.exists()


def test_full_game_to_a_win_is_logged_and_replays(active_match: dict, alice: Player, bob: Player) -> None:
    match_id = active_match["id"]
    for player, cell in [(alice, 0), (bob, 3), (alice, 1), (bob, 4)]:
        move(match_id, player, cell)
    final = move(match_id, alice, 2)
    assert final.match["status"] == "finished"
    assert final.match["result"] == {"winner": 0, "reason": "three_in_a_row"}
    match = Match.objects.get(pk=match_id)
    assert match.finished_at is not None
    assert match.seq == 7  # two joins, five moves
    assert_state_is_replay_of_log(match_id)


@pytest.mark.parametrize(
    "actor, cell, seq, code",
    [
        ("bob", 0, None, "not_your_turn"),
        ("alice", 9, None, "illegal_move"),
        ("carol", 0, None, "not_a_player"),
        ("alice", 0, 1, "stale_seq"),
        ("alice", 0, 99, "stale_seq"),
    ],
)
def test_refused_moves_change_nothing(
    active_match: dict,
    alice: Player,
    bob: Player,
    make_player: Callable,
    actor: str,
    cell: int,
    seq: int | None,
    code: str,
) -> None:
    players = {"alice": alice, "bob": bob, "carol": make_player("carol")}
    before = Match.objects.get(pk=active_match["id"])
    with pytest.raises(GameError) as refused:
        move(active_match["id"], players[actor], cell, seq)
    assert refused.value.code == code
    after = Match.objects.get(pk=active_match["id"])
    assert (after.seq, after.state) == (before.seq, before.state)
    assert MatchEvent.objects.filter(match_id=active_match["id"]).count() == before.seq


def test_moves_before_the_match_starts_are_refused(alice: Player) -> None:
    data = services.create_match(alice, "tictactoe").match
    with pytest.raises(GameError) as refused:
        move(data["id"], alice, 0)
    assert refused.value.code == "match_not_active"


def test_moves_after_the_end_are_refused(active_match: dict, alice: Player, bob: Player) -> None:
    for player, cell in [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)]:
        move(active_match["id"], player, cell)
    with pytest.raises(GameError) as refused:
        move(active_match["id"], bob, 5)
    assert refused.value.code == "match_not_active"


def test_unknown_match_is_not_found(alice: Player) -> None:
    with pytest.raises(GameError) as refused:
        move(424242, alice, 0)
    assert refused.value.code == "not_found"


def test_replay_since_gives_each_event_with_the_match_as_it_stood(active_match: dict, alice: Player) -> None:
    move(active_match["id"], alice, 4)
    current, missed = services.replay_since(active_match["id"], 1, limit=10)
    assert [event["seq"] for event, _ in missed] == [2, 3]
    (join, after_join), (played, after_move) = missed
    assert (join["kind"], played["kind"], played["move"]) == ("join", "move", {"cell": 4})
    assert after_join["status"] == "active" and after_join["state"]["board"][4] is None
    assert after_move["state"]["board"][4] == "X"
    assert after_move == current.match


def test_replay_since_prefers_a_snapshot_when_nothing_or_too_much_is_missed(active_match: dict) -> None:
    match_id = active_match["id"]
    assert services.replay_since(match_id, 2, limit=10)[1] is None  # nothing missed
    assert services.replay_since(match_id, 5, limit=10)[1] is None  # from the future
    assert services.replay_since(match_id, 0, limit=1)[1] is None  # too many


def test_concurrent_moves_on_the_same_seq_apply_exactly_once(active_match: dict, alice: Player) -> None:
    match_id = active_match["id"]
    outcomes = race([lambda cell=cell: move(match_id, alice, cell, seq=2) for cell in range(6)])
    accepted = [o for o in outcomes if isinstance(o, services.Step)]
    refused = [o for o in outcomes if isinstance(o, GameError)]
    assert len(accepted) == 1, outcomes
    assert {r.code for r in refused} <= {"stale_seq", "not_your_turn"}
    assert len(refused) == 5
    match = Match.objects.get(pk=match_id)
    assert match.seq == 3
    assert match.state["board"].count("X") == 1
    assert_state_is_replay_of_log(match_id)


def test_concurrent_moves_without_seq_never_lose_an_update(active_match: dict, alice: Player, bob: Player) -> None:
    match_id = active_match["id"]
    outcomes = race(
        [lambda: move(match_id, alice, 0), lambda: move(match_id, bob, 1), lambda: move(match_id, alice, 2)]
    )
    # Whatever the interleaving, every accepted move is in the log once, the
    # seqs have no holes, and the stored state is the log's replay.
    accepted = [o for o in outcomes if isinstance(o, services.Step)]
    refused = [o for o in outcomes if not isinstance(o, services.Step)]
    assert accepted, outcomes
    assert all(isinstance(r, GameError) and r.code == "not_your_turn" for r in refused), outcomes
    assert sorted(o.event["seq"] for o in accepted) == list(range(3, 3 + len(accepted)))
    assert Match.objects.get(pk=match_id).seq == 2 + len(accepted)
    assert_state_is_replay_of_log(match_id)


def test_concurrent_joins_fill_each_seat_once(alice: Player, make_player: Callable) -> None:
    data = services.create_match(alice, "tictactoe").match
    players = [make_player(f"p{i}") for i in range(5)]
    outcomes = race([lambda p=p: services.join_match(data["id"], p) for p in players])
    assert sum(isinstance(o, services.Current) for o in outcomes) == 1, outcomes
    assert {o.code for o in outcomes if isinstance(o, GameError)} == {"match_full"}
    match = Match.objects.get(pk=data["id"])
    assert (match.status, match.seq, match.seats.count()) == ("active", 2, 2)
