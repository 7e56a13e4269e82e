"""A finished match replays to the same result from its log alone: every
kind of ending is produced, then every finished match in the test database
is replayed and compared (``manage.py verify_replays``)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from games import services
from games.models import Match, Player
from tests.test_rules_battleship import CELLS_B, FLEET_A, FLEET_B

pytestmark = pytest.mark.django_db(transaction=True)


def seated(alice: Player, bob: Player, game: str, options: dict | None = None) -> int:
    match_id = services.create_match(alice, game, options)["id"]
    services.join_match(match_id, bob)
    return match_id


def play(match_id: int, players: list[Player], moves: list[dict]) -> None:
    for index, move in enumerate(moves):
        services.apply_move(match_id, players[index % 2], move)


def finish_every_way(alice: Player, bob: Player) -> None:
    pair = [alice, bob]
    play(seated(alice, bob, "tictactoe"), pair, [{"cell": c} for c in (0, 3, 1, 4, 2)])
    play(seated(alice, bob, "tictactoe"), pair, [{"cell": c} for c in (0, 1, 2, 4, 3, 5, 7, 6, 8)])
    play(seated(alice, bob, "connect4"), pair, [{"column": c} for c in (0, 1, 0, 1, 0, 1, 0)])
    play(seated(alice, bob, "chess"), pair, [{"uci": u} for u in ("f2f3", "e7e5", "g2g4", "d8h4")])
    claim = seated(alice, bob, "chess", {"clock": {"initial": 600, "increment": 5}})
    play(claim, pair, [{"uci": u} for u in ["g1f3", "g8f6", "f3g1", "f6g8"] * 2])
    services.apply_move(claim, alice, {"claim_draw": True})
    ships = seated(alice, bob, "battleship")
    services.apply_move(ships, bob, {"fleet": FLEET_B})
    services.apply_move(ships, alice, {"fleet": FLEET_A})
    misses = iter([[r, c] for r in range(9, -1, -1) for c in range(9, -1, -1) if [r, c] not in CELLS_B])
    for cell in CELLS_B:
        services.apply_move(ships, alice, {"shot": cell})
        if cell != CELLS_B[-1]:
            services.apply_move(ships, bob, {"shot": next(misses)})
    services.act(seated(alice, bob, "connect4"), bob, "resign")
    drawn = seated(alice, bob, "tictactoe")
    services.act(drawn, alice, "offer_draw")
    services.act(drawn, bob, "accept_draw")
    services.act(drawn, alice, "rematch")
    services.act(drawn, bob, "rematch")
    flagged = seated(alice, bob, "chess", {"clock": {"initial": 1, "increment": 0}})
    services.apply_move(flagged, alice, {"uci": "e2e4"})
    time.sleep(1.05)
    assert services.settle_deadline(flagged)


def test_every_finished_match_replays_to_what_is_stored(alice: Player, bob: Player) -> None:
    finish_every_way(alice, bob)
    reasons = set(Match.objects.filter(status="finished").values_list("result__reason", flat=True))
    assert reasons >= {"three_in_a_row", "board_full", "four_in_a_row", "checkmate", "threefold_repetition",
                       "fleet_sunk", "resign", "agreement", "timeout"}  # fmt: skip
    out = io.StringIO()
    call_command("verify_replays", "--all", stdout=out)
    assert f"replayed {Match.objects.count()} match(es), 0 differ" in out.getvalue()


@pytest.mark.tampers_with_the_log
def test_a_match_that_differs_from_its_log_is_reported(alice: Player, bob: Player, make_player: Callable) -> None:
    match_id = seated(alice, bob, "tictactoe")
    play(match_id, [alice, bob], [{"cell": c} for c in (0, 3, 1, 4, 2)])
    assert services.replay_differences(Match.objects.get(pk=match_id)) == []
    Match.objects.filter(pk=match_id).update(state={"board": ["X"] * 9})
    assert services.replay_differences(Match.objects.get(pk=match_id)) == ["state"]
    with pytest.raises(CommandError, match="1 match"):
        call_command("verify_replays", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_cached_replay_is_never_served_to_another_viewer(alice: Player, bob: Player) -> None:
    """The replay is cached once computed: bob's own (with his fleet) must
    not be what a spectator or alice gets afterwards."""
    from django.test import Client

    match_id = seated(alice, bob, "battleship")
    services.apply_move(match_id, bob, {"fleet": FLEET_B})
    services.apply_move(match_id, alice, {"fleet": FLEET_A})
    services.act(match_id, alice, "resign")
    url = f"/api/matches/{match_id}/replay"
    fleet_b = {(row, col) for row, col in CELLS_B}
    own = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {bob.token}").content.decode()
    assert fleet_b & _cells_in(own)  # bob sees his own placement
    for headers in ({}, {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"}):
        text = Client().get(url, **headers).content.decode()
        shown = fleet_b & _cells_in(text)
        assert not shown, f"bob's fleet leaked from the cache: {sorted(shown)[:3]}"


def _cells_in(text: str) -> set[tuple[int, int]]:
    """Every {"row", "col"} pair anywhere in a JSON text."""
    import json

    found: set[tuple[int, int]] = set()
    pending = [json.loads(text)]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("row"), int) and isinstance(item.get("col"), int):
                found.add((item["row"], item["col"]))
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found
