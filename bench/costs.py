"""What one message costs the server: CPU per resync and per replay of a
long chess match (``python manage.py benchcosts``).

Measured in this process, on a scratch test database made for the run, with
``time.process_time`` (CPU, not wall time): a resync is what the match socket
does for it (``services.replay_since`` and one event message per missed
event), a replay is the whole HTTP request ``GET /api/matches/<id>/replay``
through Django's test client, served cold (first request) and warm.
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections.abc import Callable
from typing import Any

import chess
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_test_environment, teardown_test_environment
from django.utils import timezone

from classic_games import chess as chess_rules
from games import frames, quotas, services
from games.accounts import create_guest
from games.models import Player

PLIES = 300


def _game_of(plies: int, seed: int) -> list[str] | None:
    """``plies`` legal moves from the start that do not end the game, or None."""
    rng = random.Random(seed)
    board = chess.Board()
    moves = []
    for _ in range(plies):
        choices = sorted(board.legal_moves, key=lambda move: move.uci())
        board.push(rng.choice(choices))
        if board.is_game_over(claim_draw=False):
            return None
        moves.append(board.peek().uci())
    return moves


def long_game(plies: int = PLIES) -> list[str]:
    seed = 0
    while (moves := _game_of(plies, seed)) is None:
        seed += 1
    return moves


def cpu_ms(call: Callable[[], Any], repeat: int) -> float:
    """Mean CPU milliseconds of ``call`` over ``repeat`` runs (after one warm-up).

    A full collection first: the setup (the scratch database's migrations above
    all) leaves tens of thousands of objects of cyclic garbage and a full
    collection nearly due (about 90 ms here), which would otherwise land in
    whichever loop comes next and add 90 ms / ``repeat`` to its mean."""
    call()
    gc.collect()
    start = time.process_time()
    for _ in range(repeat):
        call()
    return (time.process_time() - start) * 1000 / repeat


def play(moves: list[str]) -> int:
    white, _ = create_guest("white")
    black, _ = create_guest("black")
    data = services.create_match(white, "chess").match
    services.join_match(data["id"], black)
    players = (white, black)
    for ply, uci in enumerate(moves):
        services.act(data["id"], players[ply % 2], "move", {"uci": uci})
    return data["id"]


def resync(match_id: int, seq: int, missed: int) -> None:
    """What the match socket does for ``{"type": "resync", "after": seq - missed}``:
    the events, or a snapshot when more than ``GAMES_RESYNC_MAX_EVENTS`` were missed."""
    current, steps = services.replay_since(match_id, seq - missed, settings.GAMES_RESYNC_MAX_EVENTS)
    if steps is None:
        frames.snapshot(current.match, current.presence, 0, timezone.now())
        return
    for event, data in steps:
        frames.event(event, data, current.presence, 0)


def forget_process_caches() -> None:
    chess_rules._recent.clear()
    chess_rules.automatic_result.cache_clear()
    cache.clear()


def measure(repeat: int = 50) -> dict[str, Any]:
    """The figures, on a scratch database that is dropped afterwards."""
    setup_test_environment()
    old_name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "postgresql":  # a database of this run's own, whatever else runs on the server
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"benchcosts_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        match_id = play(long_game())
        seq = services.get_match(match_id).seq
        figures: dict[str, Any] = {"plies": PLIES, "database": connection.vendor}
        for missed in (1, 10, 16, 100):
            figures[f"resync_{missed}_missed_ms"] = round(cpu_ms(lambda m=missed: resync(match_id, seq, m), repeat), 2)
        black = services.load_match(match_id).match["players"][1]["id"]
        services.act(match_id, Player.objects.get(pk=black), "resign")
        client = Client()
        url = f"/api/matches/{match_id}/replay"
        forget_process_caches()  # as in a process that did not host the match
        # Every request a replay, none a cheap 429: the per-address limit is
        # for clients, not for this loop.
        with override_settings(GAMES_LIMITS={**settings.GAMES_LIMITS, "address_replays": "1000000/second"}):
            quotas.reset()
            gc.collect()  # see cpu_ms
            start = time.process_time()
            first = client.get(url)
            figures["replay_cold_ms"] = round((time.process_time() - start) * 1000, 1)
            assert first.status_code == 200 and len(first.json()["steps"]) == PLIES + 3, first.status_code
            figures["replay_warm_ms"] = round(cpu_ms(lambda: client.get(url), max(5, repeat // 5)), 1)
            assert client.get(url).status_code == 200  # the loop above timed replays, not refusals
        quotas.reset()
        return figures
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
