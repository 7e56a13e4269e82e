"""Quick play, simulated: players with a realistic rating spread seek games
over simulated time and are paired by the server's own pairing function
(``matchmaking.pairing.pair_wave``), in waves every ``wave_seconds`` and, with
``pair_at_once`` (the server's default, ``MATCHMAKING_PAIR_AT_ONCE``), at once
when a new seek arrives where someone waits, as the server runs it. No
sleeps: the clock is simulated, so an hour of play takes a second.

The model: ``players`` players, each with a fixed rating drawn from a normal
distribution (mean 1500, sd 300, clipped to 600..2800), seek at Poisson
arrivals (``arrival_rate`` per second) and leave once paired. With
``return_probability`` above 0 a paired player plays a game of
``game_seconds`` (uniform) and then seeks again with that probability,
remembering their last opponent (so the no-repeat rule is exercised).
Players are spread evenly over ``pools`` pools (each a game and time control).
The run ends when nobody is left to arrive and no pool holds two waiting
players, or after ``max_seconds``.

Reported: the wait of every paired seek and the rating difference of every
pair (median, p95), overall and for the seeks paired while at least
``crowded`` players waited in their pool.
"""

from __future__ import annotations

import heapq
import random
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from matchmaking.pairing import MAX_BONUS_SECONDS, Candidate, pair_wave

RATING_FLOOR, RATING_CEILING = 600.0, 2800.0


@dataclass(frozen=True)
class SimConfig:
    players: int = 1000
    mean: float = 1500.0
    sd: float = 300.0
    arrival_rate: float = 10.0
    wave_seconds: float = 2.0
    pair_at_once: bool = True
    return_probability: float = 0.0
    game_seconds: tuple[float, float] = (60.0, 300.0)
    max_seconds: float = 3600.0
    pools: int = 1
    crowded: int = 50
    seed: int = 1


@dataclass
class Figures:
    """Median and p95 of the waits (seconds) and rating differences (points)."""

    seeks_paired: int = 0
    pairs: int = 0
    wait_median: float | None = None
    wait_p95: float | None = None
    difference_median: float | None = None
    difference_p95: float | None = None


@dataclass
class SimReport:
    config: dict[str, Any]
    overall: Figures
    crowded: Figures
    seeks: int = 0
    still_waiting: int = 0
    repeat_pairs: int = 0
    largest_pool: int = 0
    waves: int = 0
    waits: list[float] = field(default_factory=list, repr=False)


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile (nearest rank) of ``values``, or None."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def figures(waits: list[float], differences: list[float]) -> Figures:
    return Figures(
        seeks_paired=len(waits),
        pairs=len(differences),
        wait_median=statistics.median(waits) if waits else None,
        wait_p95=percentile(waits, 0.95),
        difference_median=statistics.median(differences) if differences else None,
        difference_p95=percentile(differences, 0.95),
    )


def simulate(config: SimConfig) -> SimReport:
    """Run the simulation; deterministic for a given ``config`` (its seed)."""
    rng = random.Random(config.seed)
    ratings = [min(RATING_CEILING, max(RATING_FLOOR, rng.gauss(config.mean, config.sd))) for _ in range(config.players)]
    pool_of = [index % config.pools for index in range(config.players)]
    last_opponent: dict[int, int] = {}
    waiting: list[dict[int, Candidate]] = [{} for _ in range(config.pools)]
    arrivals: list[tuple[float, int]] = []
    at = 0.0
    for player in rng.sample(range(config.players), config.players):
        at += rng.expovariate(config.arrival_rate)
        heapq.heappush(arrivals, (at, player))

    waits: list[float] = []
    differences: list[float] = []
    crowded_waits: list[float] = []
    crowded_differences: list[float] = []
    largest_pool = 0
    seeks = repeat_pairs = waves = 0
    next_seek = 0
    last_arrival = 0.0

    def run(pool: int, now: float) -> None:
        nonlocal repeat_pairs
        size = len(waiting[pool])
        if size < 2:
            return
        crowded = size >= config.crowded
        for pair in pair_wave(list(waiting[pool].values()), now).pairs:
            first, second = pair.first, pair.second
            repeat_pairs += last_opponent.get(first.player) == second.player
            differences.append(pair.difference)
            if crowded:
                crowded_differences.append(pair.difference)
            for mine, theirs in ((first, second), (second, first)):
                del waiting[pool][mine.seek]
                waits.append(now - mine.since)
                if crowded:
                    crowded_waits.append(now - mine.since)
                last_opponent[mine.player] = theirs.player
                if rng.random() < config.return_probability:
                    heapq.heappush(arrivals, (now + rng.uniform(*config.game_seconds), mine.player))

    wave_at = config.wave_seconds
    while True:
        next_arrival = arrivals[0][0] if arrivals else float("inf")
        settled = not arrivals and (
            all(len(pool) < 2 for pool in waiting) or wave_at > last_arrival + MAX_BONUS_SECONDS + config.wave_seconds
        )  # nobody left to arrive, and no wave can pair anyone any more
        if settled or min(next_arrival, wave_at) > config.max_seconds:
            break
        if wave_at <= next_arrival:
            waves += 1
            for pool in range(config.pools):
                largest_pool = max(largest_pool, len(waiting[pool]))
                run(pool, wave_at)
            wave_at += config.wave_seconds
            continue
        now, player = heapq.heappop(arrivals)
        last_arrival = now
        seeks += 1
        next_seek += 1
        pool = pool_of[player]
        waiting[pool][next_seek] = Candidate(next_seek, player, ratings[player], now, last_opponent.get(player))
        if config.pair_at_once:
            run(pool, now)  # as the server does for a new seek

    return SimReport(
        config=asdict(config),
        overall=figures(waits, differences),
        crowded=figures(crowded_waits, crowded_differences),
        seeks=seeks,
        still_waiting=sum(len(pool) for pool in waiting),
        repeat_pairs=repeat_pairs,
        largest_pool=largest_pool,
        waves=waves,
        waits=waits,
    )


def as_dict(report: SimReport) -> dict[str, Any]:
    """The report as JSON-ready data (without the raw waits)."""
    data = asdict(report)
    data.pop("waits")
    return data
