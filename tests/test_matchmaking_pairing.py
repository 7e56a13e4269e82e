"""The pairing of a wave (``matchmaking.pairing``), pure: closest ratings,
a range that widens with the wait, no repeat pairing while someone else
waits, never a player with themselves, colours, the computer fallback, and
the same answer for the same input."""

from __future__ import annotations

import random
from typing import Any

from matchmaking.pairing import BASE_RANGE, MAX_RANGE, WIDEN_PER_SECOND, Candidate, Pair, pair_wave

NOW = 1_000_000.0


def seeker(seek: int, rating: float, waited: float = 0.0, player: int | None = None, **fields: Any) -> Candidate:
    return Candidate(seek=seek, player=player or seek * 10, rating=rating, since=NOW - waited, **fields)


def paired(pairs: list[Pair]) -> set[frozenset[int]]:
    return {frozenset((pair.first.seek, pair.second.seek)) for pair in pairs}


def test_the_closest_ratings_are_paired() -> None:
    wave = pair_wave([seeker(1, 1500), seeker(2, 1590), seeker(3, 1505), seeker(4, 1680)], NOW)
    assert paired(wave.pairs) == {frozenset({1, 3}), frozenset({2, 4})}
    assert sorted(pair.difference for pair in wave.pairs) == [5, 90]


def test_newcomers_further_apart_than_the_base_range_wait() -> None:
    assert pair_wave([seeker(1, 1500), seeker(2, 1500 + BASE_RANGE)], NOW).pairs != []
    assert pair_wave([seeker(1, 1500), seeker(2, 1500 + BASE_RANGE + 1)], NOW).pairs == []


def test_the_range_widens_the_longer_they_wait() -> None:
    apart = 300.0  # both waited 10 s: 100 + 10 * (10 + 10) = 300
    for waited, expected in [(0, False), (9, False), (10, True), (60, True)]:
        wave = pair_wave([seeker(1, 1500, waited), seeker(2, 1500 + apart, waited)], NOW)
        assert bool(wave.pairs) is expected, waited
    # One who waited long widens it for a newcomer too.
    assert pair_wave([seeker(1, 1500, 20), seeker(2, 1800)], NOW).pairs != []
    assert pair_wave([seeker(1, 1500, 19), seeker(2, 1800)], NOW).pairs == []


def test_the_range_stops_widening_after_a_minute() -> None:
    assert MAX_RANGE == BASE_RANGE + 2 * 60 * WIDEN_PER_SECOND
    assert pair_wave([seeker(1, 1000, 3600), seeker(2, 1000 + MAX_RANGE)], NOW).pairs == []
    assert pair_wave([seeker(1, 1000, 3600), seeker(2, 1000 + MAX_RANGE, 3600)], NOW).pairs != []
    assert pair_wave([seeker(1, 1000, 3600), seeker(2, 1001 + MAX_RANGE, 3600)], NOW).pairs == []


def test_whoever_waited_longer_goes_first() -> None:
    """Two newcomers 5 apart would be the closest pair, but the player who
    waited 30 s takes the nearer of them (their wait is worth 300 points)."""
    wave = pair_wave([seeker(1, 1500, 30), seeker(2, 1550), seeker(3, 1545)], NOW)
    assert paired(wave.pairs) == {frozenset({1, 3})}


def test_never_the_same_two_twice_in_a_row_while_someone_else_waits() -> None:
    alice = seeker(1, 1500, player=100, last_opponent=200)
    bob = seeker(2, 1500, player=200, last_opponent=100)
    # Only the two of them wait: they may play again.
    assert paired(pair_wave([alice, bob], NOW).pairs) == {frozenset({1, 2})}
    # Carol waits too (far away: nobody may play her yet): no rematch, all three wait.
    carol = seeker(3, 2200, player=300)
    assert pair_wave([alice, bob, carol], NOW).pairs == []
    # Once carol is in range she plays one of them.
    near_carol = seeker(3, 1520, player=300)
    assert paired(pair_wave([alice, bob, near_carol], NOW).pairs) in ({frozenset({1, 3})}, {frozenset({2, 3})})
    # A rematch only one side remembers is refused as well.
    one_sided = seeker(2, 1500, player=200)
    assert pair_wave([alice, one_sided, carol], NOW).pairs == []
    # Someone out of both players' reach for good (over 1,300 points away)
    # does not keep them waiting forever: they play again.
    unreachable = seeker(3, 2900, 3600, player=300)
    assert paired(pair_wave([alice, bob, unreachable], NOW).pairs) == {frozenset({1, 2})}


def test_never_a_player_with_themselves() -> None:
    one, same_player = seeker(1, 1500, player=7), seeker(2, 1500, player=7)
    assert pair_wave([one, same_player], NOW).pairs == []
    other = seeker(3, 1510, player=8)
    assert paired(pair_wave([one, same_player, other], NOW).pairs) == {frozenset({1, 3})}


def test_each_seek_is_in_at_most_one_pair() -> None:
    rng = random.Random(5)
    crowd = [seeker(i, rng.gauss(1500, 300), rng.uniform(0, 90)) for i in range(1, 200)]
    wave = pair_wave(crowd, NOW)
    seeks = [c.seek for pair in wave.pairs for c in (pair.first, pair.second)]
    assert len(seeks) == len(set(seeks)) and len(wave.pairs) > 50
    for pair in wave.pairs:
        waited = sum(min(NOW - c.since, 60) for c in (pair.first, pair.second))
        assert pair.difference <= BASE_RANGE + WIDEN_PER_SECOND * waited + 1e-9


def test_the_same_input_gives_the_same_pairs_in_any_order() -> None:
    rng = random.Random(11)
    crowd = [seeker(i, round(rng.gauss(1500, 300)), rng.choice([0, 3, 7])) for i in range(1, 80)]
    first = pair_wave(crowd, NOW)
    for _ in range(5):
        shuffled = crowd[:]
        rng.shuffle(shuffled)
        again = pair_wave(shuffled, NOW)
        assert [(p.first.seek, p.second.seek) for p in again.pairs] == [
            (p.first.seek, p.second.seek) for p in first.pairs
        ]


def test_colours_follow_the_seek_ids_not_who_waited_longer() -> None:
    even = pair_wave([seeker(1, 1500, 30), seeker(3, 1500)], NOW).pairs[0]
    odd = pair_wave([seeker(1, 1500, 30), seeker(2, 1500)], NOW).pairs[0]
    assert (even.first.seek, even.second.seek) == (1, 3)  # ids add up to an even number: the lower id plays first
    assert (odd.first.seek, odd.second.seek) == (2, 1)


def test_a_seek_that_waited_its_bot_after_is_due_for_the_computer() -> None:
    lonely = seeker(1, 2600, 25, bot_after=20)
    patient = seeker(2, 900, 25)  # never asked for the computer
    early = seeker(3, 1900, 5, bot_after=20)
    wave = pair_wave([lonely, patient, early], NOW)
    assert wave.pairs == [] and [c.seek for c in wave.bots] == [1]
    # A person in range goes first.
    rival = seeker(4, 2590)
    wave = pair_wave([lonely, rival], NOW)
    assert paired(wave.pairs) == {frozenset({1, 4})} and wave.bots == []
