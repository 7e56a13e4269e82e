"""Bots as players: the API, matches against the computer, and the runner
playing bots' turns in this process (``BOTS_IN_PROCESS``), through the match
service, with its thinking processes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from bots import runner as runner_module
from bots import services as bot_services
from bots import strategies
from bots.models import Bot
from bots.runner import runner
from bots.services import bot_player, start_bot_match
from games import services
from games.clock import run_clock
from games.engine.errors import GameError
from games.engine.match import turn
from games.models import Match, MatchEvent, Player

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_bots() -> Iterator[None]:
    """Each test's database starts without bots: forget the ids of the last test's."""
    bot_services.known_bots.clear()
    yield
    bot_services.known_bots.clear()


@pytest.fixture
def bots_here(settings: Any) -> None:
    settings.BOTS_IN_PROCESS = True


def bearer(player: Player) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {player.token}"}  # type: ignore[attr-defined]


def events(match_id: int) -> list[tuple[str, int | None]]:
    return list(MatchEvent.objects.filter(match_id=match_id).order_by("seq").values_list("kind", "seat"))


async def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` (run on a database thread) until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await database_sync_to_async(check)()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


# --- the API -----------------------------------------------------------------


def test_the_levels_are_listed_with_their_bot_players() -> None:
    body = Client().get("/api/bots").json()
    assert [level["level"] for level in body["levels"]] == [1, 2, 3]
    assert [level["strategy"] for level in body["levels"]] == ["random", "search", "search"]
    for level in body["levels"]:
        player = Player.objects.get(pk=level["player"]["id"])
        assert player.is_bot and player.name == level["player"]["name"]
        assert level["description"] and level["seconds_per_move"] >= 0
    assert Client().get("/api/bots").json() == body  # the same bots, not new ones


def test_a_match_against_the_computer_is_active_at_once_with_the_body_of_a_new_match(
    make_player: Callable[[str], Player],
) -> None:
    human, client = make_player("human"), Client()
    ordinary = client.post("/api/matches", {"game": "connect4"}, content_type="application/json", **bearer(human))
    created = client.post(
        "/api/bots/matches", {"game": "connect4", "level": 2, "options": {"move_timeout": 30}},
        content_type="application/json", **bearer(human),
    )  # fmt: skip
    assert created.status_code == 201
    match = created.json()
    assert set(match) == set(ordinary.json())
    assert match["status"] == "active" and match["options"] == {"move_timeout": 30}
    assert [player["seat"] for player in match["players"]] == [0, 1]
    assert match["players"][0]["id"] == human.pk
    assert Player.objects.get(pk=match["players"][1]["id"]).bot.level == 2
    assert match["turn"] == [0]


def test_the_caller_may_let_the_computer_move_first(make_player: Callable[[str], Player]) -> None:
    human = make_player("human")
    match = Client().post(
        "/api/bots/matches", {"game": "tictactoe", "level": 1, "seat": 1}, content_type="application/json",
        **bearer(human),
    ).json()  # fmt: skip
    assert match["players"][1]["id"] == human.pk
    assert Player.objects.get(pk=match["players"][0]["id"]).is_bot


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"game": "go", "level": 1}, 400, "unknown_game"),
        ({"game": "tictactoe", "level": 4}, 400, "invalid_options"),
        ({"game": "tictactoe", "level": 0}, 400, "invalid_options"),
        ({"game": "tictactoe", "level": 1, "seat": 2}, 400, "invalid_options"),
        ({"game": "tictactoe", "level": 1, "options": {"clock": 5}}, 400, "invalid_options"),
        ({"game": "tictactoe", "level": "1"}, 400, "bad_request"),
        ({"game": "tictactoe", "level": 1, "colour": "white"}, 400, "bad_request"),
        ({"game": "tictactoe"}, 400, "bad_request"),
    ],
)
def test_refused_matches_against_the_computer(
    make_player: Callable[[str], Player], body: dict[str, Any], status: int, code: str
) -> None:
    human = make_player("human")
    answer = Client().post("/api/bots/matches", body, content_type="application/json", **bearer(human))
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert not Match.objects.exists()


def test_only_a_player_may_start_a_match_against_the_computer() -> None:
    answer = Client().post("/api/bots/matches", {"game": "tictactoe", "level": 1}, content_type="application/json")
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "not_authenticated")


def test_an_account_may_declare_itself_a_bot() -> None:
    client = Client()
    made = client.post("/api/players", {"name": "my-bot", "is_bot": True}, content_type="application/json")
    assert made.status_code == 201 and set(made.json()) == {"id", "name", "token"}
    assert Player.objects.get(pk=made.json()["id"]).is_bot
    person = client.post("/api/players", {"name": "me"}, content_type="application/json").json()
    assert not Player.objects.get(pk=person["id"]).is_bot
    refused = client.post("/api/players", {"name": "x", "is_bot": "yes"}, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "bad_request")


def test_start_bot_match_is_what_quick_play_calls(make_player: Callable[[str], Player]) -> None:
    human = make_player("human")
    current = start_bot_match(human, "connect4", {}, 3)
    assert current.match["status"] == "active"
    seated = {player["seat"]: player["id"] for player in current.match["players"]}
    assert seated[0] == human.pk and Bot.objects.get(player_id=seated[1]).level == 3


def test_a_player_plays_the_computer_in_a_few_matches_at_most(
    make_player: Callable[[str], Player], settings: Any
) -> None:
    settings.BOTS_MAX_ACTIVE_MATCHES_PER_PLAYER = 2
    alice = make_player("alice")
    first = start_bot_match(alice, "tictactoe", {}, 1).match["id"]
    start_bot_match(alice, "connect4", {}, 3)
    with pytest.raises(GameError) as refused:
        start_bot_match(alice, "tictactoe", {}, 2)
    assert refused.value.code == "too_many_open_matches"
    assert Match.objects.filter(status="active").count() == 2
    services.act(first, alice, "resign")  # a finished match frees its place
    assert start_bot_match(alice, "tictactoe", {}, 2).match["status"] == "active"


def test_the_sweep_reaches_every_bot_turn_however_many_matches_wait_on_people(
    make_player: Callable[[str], Player], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matches waiting on their human (seat 0 moves first) come before the
    one where the bot is to move; each sweep reads the next few in turn."""
    monkeypatch.setattr(runner_module, "SWEEP_LIMIT", 2)
    monkeypatch.setattr(runner_module, "QUIET_BEFORE_SWEEP", timedelta(0))
    players = [make_player(f"p{i}") for i in range(4)]
    for player in players[:3]:
        start_bot_match(player, "tictactoe", {}, 1)  # the human moves first
    due = start_bot_match(players[3], "tictactoe", {}, 1, seat=1).match  # the bot moves first
    found = [runner_module.due_turns() for _ in range(3)]
    assert [(due["id"], due["seq"])] in found, found


def test_two_processes_creating_a_level_s_bot_at_once_make_one() -> None:
    barrier, made, failures = threading.Barrier(4), [], []

    def create() -> None:
        from django.db import connection

        try:
            barrier.wait()
            made.append(bot_player(2).pk)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(set(made)) == 1 and Bot.objects.filter(level=2).count() == 1
    assert Player.objects.filter(is_bot=True).count() == 1


# --- the runner, in this process ----------------------------------------------


async def test_the_bot_moves_first_at_once_and_answers_every_move(
    bots_here: None, make_player: Callable[[str], Player]
) -> None:
    await runner.attach(listen=False)
    human = await database_sync_to_async(make_player)("human")
    started = await database_sync_to_async(start_bot_match)(human, "tictactoe", {}, 1, seat=1)
    match_id = started.match["id"]
    await until(lambda: services.load_match(match_id).match["seq"] == 3, 15, "the bot's first move")
    for _ in range(4):
        current = await database_sync_to_async(services.load_match)(match_id)
        if current.match["status"] != "active":
            break
        free = current.match["state"]["board"].index(None)
        seq = current.match["seq"]
        await database_sync_to_async(services.play_move)(match_id, human, {"cell": free}, seq)
        await until(
            lambda seq=seq: (m := services.load_match(match_id).match)["status"] != "active" or m["seq"] == seq + 2,
            15, "the bot's answer",
        )  # fmt: skip
    kinds = await database_sync_to_async(events)(match_id)
    bot_moves = [seat for kind, seat in kinds if kind == "move" and seat == 0]
    human_moves = [seat for kind, seat in kinds if kind == "move" and seat == 1]
    assert len(bot_moves) in (len(human_moves), len(human_moves) + 1)
    assert len(bot_moves) >= 3


async def test_a_bot_never_moves_once_the_match_is_over(bots_here: None, make_player: Callable[[str], Player]) -> None:
    """The human resigns while the top level thinks (two seconds): its move,
    ready afterwards, is refused and dropped."""
    await runner.attach(listen=False)
    human = await database_sync_to_async(make_player)("human")
    started = await database_sync_to_async(start_bot_match)(human, "connect4", {}, 3, seat=1)
    match_id = started.match["id"]
    await until(lambda: match_id in runner.in_flight, 5, "the bot starting to think")
    await asyncio.sleep(0.3)
    outcome = await database_sync_to_async(services.act)(match_id, human, "resign")
    assert outcome.refusal is None
    await until(lambda: match_id not in runner.in_flight, 20, "the bot finishing its turn")
    assert await database_sync_to_async(events)(match_id) == [("join", 0), ("join", 1), ("resign", 1)]


async def test_a_decision_that_overruns_is_abandoned_for_a_random_move(
    bots_here: None, make_player: Callable[[str], Player]
) -> None:
    """A strategy that would think for a minute: after its level's budget
    and the grace period, its process is terminated and a random legal move
    is played instead; the next decision gets a fresh process."""
    strategies.register_strategy("connect4", "tests.test_bots_slow_strategy:NeverInTime")
    try:
        await runner.attach(listen=False)
        human = await database_sync_to_async(make_player)("human")
        started = await database_sync_to_async(start_bot_match)(human, "connect4", {}, 2, seat=1)
        match_id = started.match["id"]
        begun = time.monotonic()
        await until(lambda: services.load_match(match_id).match["seq"] == 3, 30, "the bot's fallback move")
        assert time.monotonic() - begun >= 3  # it did wait for the slow strategy
    finally:
        strategies._by_game.pop("connect4", None)
    current = await database_sync_to_async(services.load_match)(match_id)
    await database_sync_to_async(services.play_move)(match_id, human, {"column": 0}, current.match["seq"])
    await until(lambda: services.load_match(match_id).match["seq"] == 5, 15, "the next move, thought normally")


async def test_a_move_the_rules_refuse_is_replaced_by_a_random_legal_one(
    bots_here: None, make_player: Callable[[str], Player]
) -> None:
    """A strategy's illegal move does not stall the bot: it plays a random legal move instead."""
    strategies.register_strategy("connect4", "tests.test_bots_slow_strategy:AlwaysIllegal")
    try:
        await runner.attach(listen=False)
        human = await database_sync_to_async(make_player)("human")
        match_id = (await database_sync_to_async(start_bot_match)(human, "connect4", {}, 2, seat=1)).match["id"]
        await until(lambda: services.load_match(match_id).match["seq"] == 3, 15, "the bot's legal move instead")
    finally:
        strategies._by_game.pop("connect4", None)
    assert await database_sync_to_async(events)(match_id) == [("join", 0), ("join", 1), ("move", 0)]


async def test_the_clock_sweep_catches_up_with_a_turn_nobody_announced(
    bots_here: None, make_player: Callable[[str], Player]
) -> None:
    """A bot whose turn came while no runner listened (a restart) moves at
    the clock loop's next sweep."""
    human = await database_sync_to_async(make_player)("human")
    # Started with the runner attached to no loop: the prompt request is lost.
    runner.loop = None
    started = await database_sync_to_async(start_bot_match)(human, "reversi", {}, 2, seat=1)
    match_id = started.match["id"]
    await asyncio.sleep(0.5)
    assert (await database_sync_to_async(services.load_match)(match_id)).match["seq"] == 2
    stop = asyncio.Event()
    clock = asyncio.create_task(run_clock(0.1, stop))
    try:
        await until(lambda: services.load_match(match_id).match["seq"] == 3, 15, "the sweep's catch-up move")
    finally:
        stop.set()
        await clock


async def test_the_bot_accepts_a_rematch(bots_here: None, make_player: Callable[[str], Player]) -> None:
    await runner.attach(listen=False)
    human = await database_sync_to_async(make_player)("human")
    started = await database_sync_to_async(start_bot_match)(human, "tictactoe", {}, 1)
    match_id = started.match["id"]
    await database_sync_to_async(services.act)(match_id, human, "resign")
    await database_sync_to_async(services.act)(match_id, human, "rematch")
    rematch = await until(lambda: services.load_match(match_id).match["rematch"]["match"], 15, "the rematch")
    # Seats rotate: the bot now plays first, and does.
    await until(lambda: services.load_match(rematch).match["seq"] == 3, 15, "the bot's first move in the rematch")
    new = await database_sync_to_async(services.load_match)(rematch)
    assert new.match["players"][1]["id"] == human.pk


async def test_a_bot_thinks_within_the_match_s_move_timeout(
    bots_here: None, make_player: Callable[[str], Player]
) -> None:
    """The top level would think two seconds; with one second a move it
    thinks half of that, and never loses on time."""
    await runner.attach(listen=False)
    human = await database_sync_to_async(make_player)("human")
    started = await database_sync_to_async(start_bot_match)(human, "connect4", {"move_timeout": 1}, 3, seat=1)
    match_id = started.match["id"]

    def humans_turn() -> dict[str, Any] | None:
        data = services.load_match(match_id).match
        return data if turn(data) == [1] or data["status"] != "active" else None

    for column in (0, 6, 0):
        current = await until(humans_turn, 15, "the bot's move")
        await database_sync_to_async(services.play_move)(match_id, human, {"column": column}, current["seq"])
    await until(humans_turn, 15, "the bot's last move")
    kinds = [kind for kind, _ in await database_sync_to_async(events)(match_id)]
    assert "timeout" not in kinds and kinds.count("move") == 7


def test_staff_see_the_levels_in_the_admin() -> None:
    from django.contrib.auth import get_user_model

    bot_player(1)
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("staff", "staff@example.com", "pw"))
    page = client.get("/admin/bots/bot/")
    assert page.status_code == 200 and b"Computer (random)" in page.content
