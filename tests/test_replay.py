"""A finished match replays to the same result from its log alone: every
kind of ending is produced, then every finished match in the test database
is replayed and compared (``manage.py verify_replays``). A real-time match's
log is its ticks, written here as its loop's owner writes them."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from games import quotas, services
from games.engine import Game, all_games, get_game
from games.engine.realtime import RealtimeGame
from games.models import Match, Player
from tests.conftest import log_ticks_as_owner
from tests.rules_helpers import random_playout, random_ticks, states_of, tick_states

pytestmark = pytest.mark.django_db(transaction=True)

GAMES = [game.slug for game in all_games()]


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    """Each test's replay reads count from zero (they all come from one address)."""
    quotas.reset()
    yield
    quotas.reset()


def seated(alice: Player, bob: Player, game: str, options: dict | None = None) -> int:
    match_id = services.create_match(alice, game, options).match["id"]
    services.join_match(match_id, bob)
    return match_id


def play(match_id: int, players: list[Player], played: list[tuple[int, dict]]) -> None:
    for seat, move in played:
        services.play_move(match_id, players[seat], move)


def play_randomly(match_id: int, rules: Game, players: list[Player], seed: int, limit: int = 1000) -> str | None:
    """Random play (moves, or a real-time match's ticks with inputs) up to
    ``limit`` moves or ticks; the reason the rules ended it with, if they did."""
    if isinstance(rules, RealtimeGame):
        ticks = random_ticks(rules, seed, limit=limit)
        log_ticks_as_owner(match_id, ticks)
        ended = rules.tick_result(tick_states(rules, ticks)[-1]) if ticks else None
    else:
        played = random_playout(rules, seed, limit=limit)
        play(match_id, players, played)
        ended = rules.result(states_of(rules, played)[-1]) if played else None
    return None if ended is None else ended.reason


def finish_every_way(alice: Player, bob: Player) -> set[str]:
    """Every game ended every way (its rules' own ending, by random play;
    resignation; an agreed draw and a rematch; a flag, for games with a
    clock); the reasons the rules' endings gave."""
    pair = [alice, bob]
    flagged = []
    reasons = set()
    for game in GAMES:
        rules = get_game(game)
        for seed in (1, 2):
            reason = play_randomly(seated(alice, bob, game), rules, pair, seed)
            assert reason is not None
            reasons.add(reason)
        resigned = seated(alice, bob, game)
        play_randomly(resigned, rules, pair, 3, limit=3)
        services.act(resigned, bob, "resign")
        if isinstance(rules, RealtimeGame):
            continue  # no draw offers, and no clock: its ticks are the clock
        if rules.allows_draw_offers:
            drawn = seated(alice, bob, game)
            services.act(drawn, alice, "offer_draw")
            services.act(drawn, bob, "accept_draw")
            services.act(drawn, alice, "rematch")
            services.act(drawn, bob, "rematch")
        flag = seated(alice, bob, game, {"clock": {"initial": 1, "increment": 0}})
        played = random_playout(rules, 4, limit=1)
        play(flag, pair, played)
        flagged.append(flag)
    time.sleep(1.05)
    for match_id in flagged:
        assert services.settle_deadline(match_id)
    return reasons


def test_every_finished_match_replays_to_what_is_stored(alice: Player, bob: Player) -> None:
    rule_endings = finish_every_way(alice, bob)
    reasons = set(Match.objects.filter(status="finished").values_list("result__reason", flat=True))
    assert reasons >= {"resign", "agreement", "timeout", *rule_endings}
    out = io.StringIO()
    call_command("verify_replays", "--all", stdout=out)
    assert f"replayed {Match.objects.count()} match(es), 0 differ" in out.getvalue()


@pytest.mark.tampers_with_the_log
def test_a_match_that_differs_from_its_log_is_reported(alice: Player, bob: Player, make_player: Callable) -> None:
    game = GAMES[0]
    match_id = seated(alice, bob, game)
    play(match_id, [alice, bob], random_playout(get_game(game), 5))
    assert services.replay_differences(Match.objects.get(pk=match_id)) == []
    Match.objects.filter(pk=match_id).update(state={"tampered": True})
    assert services.replay_differences(Match.objects.get(pk=match_id)) == ["state"]
    with pytest.raises(CommandError, match="1 match"):
        call_command("verify_replays", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("game", GAMES)
def test_a_cached_replay_is_never_served_to_another_viewer(alice: Player, bob: Player, game: str) -> None:
    """The replay is cached once computed: bob's own (with whatever only he
    may see) must not be what a spectator or alice gets afterwards. Each
    viewer's replay is exactly the game's views, for that viewer, of each
    state and each move."""
    rules = get_game(game)
    match_id = seated(alice, bob, game)
    if isinstance(rules, RealtimeGame):
        ticks = random_ticks(rules, 6, limit=12)
        log_ticks_as_owner(match_id, ticks)
        played, after = [], tick_states(rules, ticks)
    else:
        played = random_playout(rules, 6, limit=12)
        play(match_id, [alice, bob], played)
        after = states_of(rules, played)
    states = [rules.initial_state(2, {})] * 2 + after  # after the joins, then each move (or logged tick)
    if rules.turn(states[-1]):
        services.act(match_id, alice, "resign")
        states.append(states[-1])
    url = f"/api/matches/{match_id}/replay"
    for viewer, headers in ((1, {"HTTP_AUTHORIZATION": f"Bearer {bob.token}"}), (None, {}),
                            (0, {"HTTP_AUTHORIZATION": f"Bearer {alice.token}"})):  # fmt: skip
        steps = Client().get(url, **headers).json()["steps"]
        assert [step["match"]["state"] for step in steps] == [rules.view(state, viewer) for state in states]
        shown = [step["event"]["move"] for step in steps if step["event"]["kind"] == "move"]
        expected = [
            rules.view_move(state, move, seat, viewer) for (seat, move), state in zip(played, states[2:], strict=False)
        ]
        assert shown == json.loads(json.dumps(expected))
