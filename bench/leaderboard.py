"""The leaderboard benchmark (``python manage.py benchleaderboard``): how fast
a leaderboard read and a rank lookup are with many rated players.

It fills one pool with ``players`` rated players (a normal spread around
1500, standard deviation 350, within 400 to 3200; one in ten provisional, so off the board), then
times the very functions the API calls, in this process, wall time per call:

* ``ratings.leaderboards.top(pool, 50)``: what ``GET /api/leaderboards/<pool>``
  lists;
* ``ratings.leaderboards.around(player, pool)``: the caller's rank with the
  two players above and below them (``me`` in the same answer), for players
  drawn at random from the board, and for the last one (the longest count).

It reports the median and 95th percentile of each, and PostgreSQL's
``EXPLAIN (ANALYZE, BUFFERS)`` of every query those functions ran for the
worst case. Where: a scratch database of its own (created, migrated,
``VACUUM ANALYZE``-d after the fill as autovacuum would, and dropped), or with
``--in-transaction`` the configured database inside a transaction that is
rolled back (what the test suite does at a tiny size; no ``VACUUM`` there).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment
from django.utils import timezone

from bench.report import machine
from games.models import Player
from ratings import leaderboards
from ratings.models import Rating

POOL = "chess.blitz"
TOP = 50
BATCH = 5000
PROVISIONAL_SHARE = 0.1


class Rollback(Exception):
    """Raised to roll the in-transaction run back."""


@contextmanager
def scratch_database() -> Iterator[None]:
    """A fresh, migrated database of this run's own, dropped afterwards."""
    setup_test_environment()
    old_name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "postgresql":  # whatever else runs on the server, never its databases
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"benchleaderboard_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def fill(players: int, seed: int = 1) -> list[int]:
    """``players`` new players rated in :data:`POOL`; returns the ids of those on the board."""
    chance = random.Random(seed)
    user_model = get_user_model()
    now = timezone.now()
    threshold = float(settings.RATINGS_PROVISIONAL_DEVIATION)
    settled: list[int] = []
    for start in range(0, players, BATCH):
        count = min(BATCH, players - start)
        users = user_model.objects.bulk_create(
            [user_model(username=f"bench-leaderboard-{start + i}") for i in range(count)]
        )
        made = Player.objects.bulk_create([Player(user=user, name=f"player {user.pk}") for user in users])
        rows = []
        for player in made:
            provisional = chance.random() < PROVISIONAL_SHARE
            deviation = chance.uniform(threshold + 1, 350) if provisional else chance.uniform(50, threshold)
            games = chance.randint(1, 9) if provisional else chance.randint(12, 2000)
            rating = _rating(chance)
            rows.append(
                Rating(player=player, pool=POOL, rating=rating, deviation=deviation, games=games, updated_at=now)
            )
            if not provisional:
                settled.append(player.pk)
        Rating.objects.bulk_create(rows)
    return settled


def _rating(chance: random.Random) -> float:
    """A rating of a realistic pool: normal around 1500, standard deviation
    350 (lichess's blitz pool is about that wide), within 400 to 3200."""
    while True:
        rating = chance.gauss(1500, 350)
        if 400 <= rating <= 3200:
            return rating


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    """Wall milliseconds of each of ``repeat`` calls (after one untimed warm-up)."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def plans(call: Callable[[], Any]) -> list[tuple[str, str]]:
    """Each query ``call`` runs, with its plan: ``EXPLAIN (ANALYZE, BUFFERS)``
    on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite."""
    with CaptureQueriesContext(connection) as captured:
        call()
    explained = []
    for query in captured.captured_queries:
        sql = query["sql"]
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
        lines = [str(row[0]) if connection.vendor == "postgresql" else str(row[-1]) for row in rows]
        explained.append((sql, "\n".join(lines)))
    return explained


def measure(players: int, repeat: int) -> dict[str, Any]:
    """Fill, settle the statistics, time and explain (in the current database)."""
    started = time.perf_counter()
    load_before = _load()
    settled = fill(players)
    filled_s = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # VACUUM (which sets the visibility map that index-only scans
            # need) cannot run in a transaction; ANALYZE can.
            cursor.execute("ANALYZE ratings_rating" if connection.in_atomic_block else "VACUUM ANALYZE ratings_rating")
    board = sorted(
        Rating.objects.filter(pool=POOL, player_id__in=settled[:1]).values_list("player_id", flat=True)
    )  # the cheap sanity check that the fill landed
    assert board, "no rated player was stored"
    last = (
        leaderboards.ranked(POOL).order_by("rating", "-player_id").values_list("player_id", flat=True).first()
    )  # the bottom of the board: its rank counts every entry above it
    assert last is not None
    chance = random.Random(2)
    top = timed(lambda: leaderboards.top(POOL, TOP), repeat)
    around = timed(lambda: leaderboards.around(chance.choice(settled), POOL), repeat)
    bottom = timed(lambda: leaderboards.around(last, POOL), repeat)
    place = leaderboards.around(last, POOL)
    assert place is not None and place["rank"] == len(settled) - len(place["below"]), place["rank"]
    return {
        "load": f"{load_before} before the fill, {_load()} after the timing",
        "players": players,
        "on_board": len(settled),
        "repeat": repeat,
        "fill_s": round(filled_s, 1),
        "database": connection.vendor,
        "database_version": _database_version(),
        "figures": {
            f"top {TOP}": summary(top),
            "rank with neighbours, random players": summary(around),
            "rank with neighbours, last player": summary(bottom),
        },
        "plans": {
            f"top {TOP}": plans(lambda: leaderboards.top(POOL, TOP)),
            "rank with neighbours, last player": plans(lambda: leaderboards.around(last, POOL)),
        },
    }


def _load() -> str:
    """The machine's 1-minute load average (other work competes for the cores)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _database_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


def run(players: int, repeat: int, in_transaction: bool) -> dict[str, Any]:
    """The figures, on a scratch database or inside a rolled-back transaction."""
    if not in_transaction:
        with scratch_database():
            return measure(players, repeat)
    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            figures = measure(players, repeat)
            raise Rollback
    except Rollback:
        pass
    return figures


def report(figures: dict[str, Any], command: str) -> str:
    """docs/leaderboard.md."""
    host = machine()
    lines = [
        "# Leaderboard benchmark",
        "",
        f"`{command}`: {figures['players']:,} rated players in `{POOL}` "
        f"({figures['on_board']:,} on the leaderboard, the rest provisional), "
        f"{figures['repeat']} timed calls each, wall time in this process, through the functions the API calls "
        "(`ratings.leaderboards.top` and `ratings.leaderboards.around`). "
        f"{figures['database']} ({figures['database_version'].split(' on ')[0]}), "
        f"{host['cores']} cores ({host['cpu']}), {host['memory_gib']} GiB, Python {host['python']}; "
        f"filling took {figures['fill_s']} s; load average {figures['load']}. Target: under 20 ms each.",
        "",
        "| call | median | p95 | max |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in figures["figures"].items():
        lines.append(f"| {name} | {row['median_ms']} ms | {row['p95_ms']} ms | {row['max_ms']} ms |")
    lines += [
        "",
        "A rank with neighbours is four indexed queries: the caller's rating (the unique `(player, pool)` index), "
        "the two entries just above and just below (a row comparison on `(rating, player)` starting at the "
        "caller's entry), and one count of the entries at or above the window's top, over the covering "
        "`rating_leaderboard` index `(pool, rating DESC, player DESC) INCLUDE (deviation)`. The count grows "
        "with the rank: the last player's walks the whole board (PostgreSQL reads the table sequentially "
        "for that), so that is the worst case.",
    ]
    for name, queries in figures["plans"].items():
        lines += ["", f"## Plans: {name}", ""]
        for sql, plan in queries:
            lines += ["```sql", sql, "```", "", "```", plan, "```", ""]
    return "\n".join(lines).rstrip() + "\n"
