"""Bots in real processes: the embedded default (bots inside daphne), and
production's split (servers on PostgreSQL and Redis, bots in the worker):
prompt replies, a worker restart, two workers at once, the external bot
example. Reply latencies are printed (``-s`` shows them)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from bots import services as bot_services
from games.models import Match, MatchEvent, Player
from tests.live import ROOT, running_processes

pytestmark = pytest.mark.django_db(transaction=True)
SPLIT = {"BOTS_IN_PROCESS": "0", "GAMES_CLOCK_IN_PROCESS": "0"}  # the production layout: bots in the worker
# The embedded layout (bots and clock inside daphne, the in-memory layer),
# also when the run has REDIS_URL (on PostgreSQL then).
IN_PROCESS = {"REDIS_URL": "", "GAMES_CLOCK_IN_PROCESS": "1", "BOTS_IN_PROCESS": "1"}


@contextmanager
def embedded_server(logs: Path) -> Iterator[str]:
    with running_processes(logs, servers=1, env=IN_PROCESS) as ([url], _):
        yield url


@pytest.fixture(autouse=True)
def fresh_bots() -> Iterator[None]:
    bot_services.known_bots.clear()
    yield
    bot_services.known_bots.clear()


class Human:
    """A person at the table, over HTTP and one socket."""

    def __init__(self, url: str, name: str = "human") -> None:
        self.url, self.http = url, httpx.Client(base_url=url, timeout=30)
        body = self.http.post("/api/players", json={"name": name}).json()
        self.id, self.http.headers["Authorization"] = body["id"], f"Bearer {body['token']}"
        self.sockets = ExitStack()  # closed with the test's servers
        self.socket: ClientConnection | None = None
        self.match: dict[str, Any] = {}

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.http.post(path, json=body or {})
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def play_the_computer(self, game: str, level: int, seat: int = 0) -> dict[str, Any]:
        self.match = self.post("/api/bots/matches", {"game": game, "level": level, "seat": seat})
        return self.match

    def open(self) -> None:
        ticket = self.post("/api/tickets")["ticket"]
        url = f"{self.url.replace('http', 'ws')}/ws/matches/{self.match['id']}/?ticket={ticket}"
        self.socket = self.sockets.enter_context(connect(url))
        self.next("snapshot")

    def next(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        assert self.socket is not None
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message["type"] in ("snapshot", "event"):
                self.match = message["match"]
            if message["type"] == kind:
                return message

    @property
    def seat(self) -> int:
        return next(player["seat"] for player in self.match["players"] if player["id"] == self.id)

    def wait_for_my_turn(self, timeout: float = 30) -> None:
        while self.match["status"] == "active" and self.seat not in self.match["turn"]:
            self.next("event", timeout)

    def move_and_time_the_reply(self, move: dict[str, Any], timeout: float = 30) -> float | None:
        """Play ``move``; the seconds until the bot's answer arrived (``None``: the game ended)."""
        assert self.socket is not None
        sent = time.monotonic()
        self.socket.send(json.dumps({"type": "move", "move": move, "seq": self.match["seq"]}))
        mine = self.next("event", timeout)
        assert mine["event"]["seat"] == self.seat, mine
        if self.match["status"] != "active":
            return None
        reply = self.next("event", timeout)
        assert reply["event"]["kind"] == "move" and reply["event"]["seat"] != self.seat
        return time.monotonic() - sent


def first_free_cell(match: dict[str, Any]) -> dict[str, Any]:
    return {"cell": match["state"]["board"].index(None)}


def some_column(match: dict[str, Any]) -> dict[str, Any]:
    return {"column": next(column for column, discs in enumerate(match["state"]["columns"]) if len(discs) < 6)}


def play_out(human: Human, chooser: Callable[[dict[str, Any]], dict[str, Any]]) -> list[float]:
    """Play the match to its end with ``chooser``; the bot's reply times."""
    human.open()
    human.wait_for_my_turn()
    replies = []
    while human.match["status"] == "active":
        reply = human.move_and_time_the_reply(chooser(human.match))
        if reply is not None:
            replies.append(reply)
    return replies


def report(label: str, replies: list[float]) -> None:
    ordered = sorted(replies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(f"\n{label}: {len(replies)} replies, median {statistics.median(replies) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip


def moves_alternate(match_id: int) -> bool:
    moves = MatchEvent.objects.filter(match_id=match_id, kind="move").order_by("seq")
    return all(first != second for first, second in itertools.pairwise(moves.values_list("seat", flat=True)))


# --- the embedded default: bots inside the server process ----------------------


def test_embedded_the_bot_answers_every_move_until_the_game_ends(tmp_path: Path) -> None:
    with embedded_server(tmp_path) as url:
        replies = []
        for game, chooser in (("tictactoe", first_free_cell), ("connect4", some_column)):
            for level in (1, 2):
                human = Human(url)
                human.play_the_computer(game, level)
                replies += play_out(human, chooser)
                assert human.match["status"] == "finished"
                assert moves_alternate(human.match["id"])
    report("embedded, levels 1-2 (bots in daphne)", replies)
    assert max(replies) < 15


def test_embedded_the_bot_answers_the_simultaneous_battleship_setup(tmp_path: Path) -> None:
    with embedded_server(tmp_path) as url:
        human = Human(url)
        match = human.play_the_computer("battleship", 3)
        fleet = [{"row": row, "col": 0, "size": size, "dir": "right"} for row, size in enumerate((5, 4, 3, 3, 2))]
        deadline = time.monotonic() + 15
        while not human.http.get(f"/api/matches/{match['id']}").json()["state"]["ready"][1]:
            assert time.monotonic() < deadline, "the bot did not place its fleet"
            time.sleep(0.05)
        placed = human.post(f"/api/matches/{match['id']}/moves", {"move": {"fleet": fleet}})
        assert placed["state"]["ready"] == [True, True] and placed["turn"] == [0]
        assert placed["state"]["fleets"][1] is None  # the bot's fleet stays hidden
        human.open()
        assert human.move_and_time_the_reply({"shot": [9, 9]}) is not None  # and it shoots back


def test_the_example_bot_client_plays_full_games_over_the_socket_and_http(tmp_path: Path) -> None:
    with embedded_server(tmp_path) as url:
        for extra in ([], ["--http"]):
            run = subprocess.run(
                [sys.executable, "examples/bot_client.py", "--server", url, "--seed", "3", "--game=connect4", *extra],
                cwd=ROOT, capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            match_id = int(run.stdout.split("playing match ")[1].split()[0])
            match = Match.objects.get(pk=match_id)
            assert match.status == "finished" and f"match {match_id} finished" in run.stdout
            external = Player.objects.get(name="example-bot", seats__match=match)
            assert external.is_bot and not hasattr(external, "bot")  # an external bot, not one of ours


STOCKFISH = "/usr/games/stockfish"


@pytest.mark.skipif(
    not shutil.which(STOCKFISH) and not os.environ.get("CI"),
    reason=f"the UCI path needs {STOCKFISH} (apt-get install stockfish; .ci/run installs it)",
)
def test_with_chess_engine_set_the_chess_bot_thinks_with_stockfish(tmp_path: Path) -> None:
    assert shutil.which(STOCKFISH), f"{STOCKFISH} is missing: .ci/run installs Debian's stockfish package"
    with running_processes(tmp_path, servers=1, env={**IN_PROCESS, "CHESS_ENGINE": STOCKFISH}) as ([url], servers):
        human = Human(url)
        human.play_the_computer("chess", 3, seat=1)
        human.open()
        human.wait_for_my_turn()
        assert human.match["state"]["uci"] and human.match["turn"] == [1]
        engines = [pid for pid in _descendants(servers[0].pid) if _command(pid).startswith(STOCKFISH)]
        assert engines, "no Stockfish process under the server"
        assert human.move_and_time_the_reply({"uci": "g8f6"}) is not None  # legal after any first move


# --- production's split: servers on PostgreSQL and Redis, bots in the worker ----


def bot_seq(url: str, match_id: int) -> int:
    return int(httpx.get(f"{url}/api/matches/{match_id}", timeout=10).json()["seq"])


@pytest.mark.integration
def test_the_worker_answers_promptly_through_the_channel_layer(tmp_path: Path) -> None:
    """A server process commits the human's move; the worker hears of it in
    the ``bots`` group and answers well inside the one-second sweep."""
    with running_processes(tmp_path, servers=1, worker=True, env=SPLIT) as ([url], _):
        # Once the worker has played a first move (by the sweep if it was not
        # listening yet: it starts beside the server), time the prompt path.
        warm_up = Human(url).play_the_computer("tictactoe", 1, seat=1)
        deadline = time.monotonic() + 20
        while bot_seq(url, warm_up["id"]) < 3:
            assert time.monotonic() < deadline, "the worker never played"
            time.sleep(0.1)
        replies = []
        for level in (1, 1, 2):
            human = Human(url)
            human.play_the_computer("tictactoe", level)
            replies += play_out(human, first_free_cell)
            assert moves_alternate(human.match["id"])
        report("split, levels 1-2 (bots in the worker, Redis layer)", replies)
        # The sweep alone could not answer within a second (it waits for a
        # quiet second first): the prompt path did.
        assert statistics.median(replies) < 1.0


@pytest.mark.integration
def test_a_bot_whose_turn_it_is_when_the_worker_restarts_still_moves(tmp_path: Path) -> None:
    with running_processes(tmp_path, servers=1, worker=True, env=SPLIT) as ([url], processes):
        human = Human(url)
        match = human.play_the_computer("connect4", 1)
        worker = processes[-1]
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        after = human.post(f"/api/matches/{match['id']}/moves", {"move": {"column": 3}, "seq": match["seq"]})
        assert after["turn"] == [1]
        time.sleep(2)
        assert bot_seq(url, match["id"]) == after["seq"]  # nobody plays bots in the servers
        (tmp_path / "second").mkdir()
        with running_processes(tmp_path / "second", servers=0, worker=True, env=SPLIT):
            deadline = time.monotonic() + 20
            while bot_seq(url, match["id"]) == after["seq"]:
                assert time.monotonic() < deadline, "the restarted worker did not play the bot's turn"
                time.sleep(0.1)
        assert moves_alternate(match["id"])


@pytest.mark.integration
def test_two_workers_at_once_never_make_a_bot_move_twice(tmp_path: Path) -> None:
    """Both workers hear every turn and both act on it: each turn is played
    once, the other worker's move refused (its log says it was overtaken)."""
    (tmp_path / "second").mkdir()
    env = {**SPLIT, "LOG_LEVEL": "DEBUG"}
    logs = [tmp_path / "worker.log", tmp_path / "second" / "worker.log"]
    with (
        running_processes(tmp_path, servers=1, worker=True, env=env) as ([url], _),
        running_processes(tmp_path / "second", servers=0, worker=True, env=env),
    ):
        deadline = time.monotonic() + 30
        while not all("bots: listening for bot turns" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "the workers did not start listening"
            time.sleep(0.1)
        matches = []
        games = (("tictactoe", first_free_cell), ("connect4", some_column), ("tictactoe", first_free_cell))
        for game, chooser in games:
            human = Human(url)
            human.play_the_computer(game, 1, seat=1)
            play_out(human, chooser)
            matches.append(human.match)
    for match in matches:
        assert match["status"] == "finished"
        kinds = list(MatchEvent.objects.filter(match_id=match["id"]).order_by("seq").values_list("kind", "seat"))
        assert kinds[:2] == [("join", 0), ("join", 1)]
        assert moves_alternate(match["id"])
        bot_moves = sum(1 for kind, seat in kinds if kind == "move" and seat == 0)
        human_moves = sum(1 for kind, seat in kinds if kind == "move" and seat == 1)
        assert bot_moves in (human_moves, human_moves + 1)
    assert any("was overtaken" in log.read_text() for log in logs), "the workers never raced for a turn"


@pytest.mark.integration
def test_a_killed_worker_leaves_no_thinking_process_behind(tmp_path: Path) -> None:
    """The thinking processes, and the UCI engine each runs, end with their worker."""
    engine = shutil.which(STOCKFISH)
    env = {**SPLIT, "CHESS_ENGINE": engine or ""}
    with running_processes(tmp_path, servers=1, worker=True, env=env) as ([url], processes):
        human = Human(url)
        human.play_the_computer("chess" if engine else "connect4", 2, seat=1)
        deadline = time.monotonic() + 20
        while bot_seq(url, human.match["id"]) < 3:
            assert time.monotonic() < deadline, "the worker never played"
            time.sleep(0.1)
        worker = processes[-1]
        descendants = _descendants(worker.pid)
        assert _children(worker.pid), "the worker thinks in processes of its own"
        if engine:
            assert any(_command(pid).startswith(STOCKFISH) for pid in descendants), "no engine under the worker"
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in descendants):
            left = [_command(pid) for pid in descendants if _alive(pid)]
            assert time.monotonic() < deadline, f"processes outlived their worker: {left}"
            time.sleep(0.1)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        children = _children(frontier.pop())
        found += children
        frontier += children
    return found


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
