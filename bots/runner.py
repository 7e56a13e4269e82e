"""The bot runner: notices that it is a bot's turn, has it think, and plays
its move through ``games.services.act``, like a player's.

Where it runs. In the worker (``manage.py runclock``, the Procfile's
``worker``) always, and in a server process when ``BOTS_IN_PROCESS`` is on
(the embedded default). A server process is one that imported the ASGI
application (``bots.routing`` marks it).

How it learns it is a bot's turn:

* Promptly: ``games.signals.event_logged`` fires inside every event's
  transaction. :func:`on_event_logged` costs a few dictionary lookups (a
  match's player ids against :data:`bots.services.known_bots`) and, when a
  bot is in turn, defers the rest until after commit. Then, in a process
  that runs bots, the runner is asked directly; otherwise (a server whose
  bots live in the worker) a ``bot.turn`` message goes to the channel-layer
  group ``bots``, which every worker's runner listens on.
* Eventually: every clock sweep (about once a second, ``games.clock.every_sweep``)
  scans the active matches with a bot seated and no event for a second, and
  asks for those where a bot is in turn. This is what makes a bot whose turn
  it is when the worker restarts move anyway, and what repairs a lost message.

Thinking happens in a pool of processes (``bots.thinking``), so it never holds
a server's event loop; a decision that overruns its level's budget by
``GRACE_SECONDS`` is abandoned (its process is terminated and the pool
replaced) and a random legal move is played instead.

Real-time games are not played here: their loop asks the game's
``bot_input`` for a bot's seat every tick (``games.realtime.loop``). Only a
rematch request is answered here for them, as for any game.

Exactly once: the move is made with ``expected_seq`` (the seq the bot looked
at), so whatever runs twice (two workers, the sweep and the prompt path)
makes at most one move; ``stale_seq``, ``match_not_active`` and
``not_your_turn`` refusals mean someone else acted first and are dropped.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import multiprocessing.pool
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import async_to_sync
from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bots import services as bot_services
from bots.levels import GRACE_SECONDS, LEVELS
from bots.strategies import RANDOM, choose, plan
from bots.thinking import ThinkRequest, game_path, think, warm_up
from games import broadcast, services
from games.database_threads import calling_loop
from games.engine import get_game
from games.engine.clocks import remaining_ms
from games.engine.errors import ErrorCode
from games.engine.game import MoveJson
from games.engine.match import EventKind, MatchData, Status
from games.engine.realtime import RealtimeGame
from games.models import Player, Seat

logger = logging.getLogger(__name__)

GROUP = "bots"
TURN_MESSAGE = "bot.turn"
#: The sweep looks only at matches with no event for this long: the prompt path had its chance.
QUIET_BEFORE_SWEEP = timedelta(seconds=1)
SWEEP_LIMIT = 500
#: How often a listening worker renews its membership of the group (channels-redis expires it after a day).
REJOIN_EVERY_SECONDS = 3600.0
#: Refusals that mean someone (a player, the clock, another runner) acted first.
OVERTAKEN = frozenset({ErrorCode.STALE_SEQ, ErrorCode.MATCH_NOT_ACTIVE, ErrorCode.NOT_YOUR_TURN})

_serving = False

P = ParamSpec("P")
R = TypeVar("R")


def mark_serving() -> None:
    """Called when the ASGI application is imported: this process is a server."""
    global _serving
    _serving = True


def runs_bots() -> bool:
    """Whether bots think and move in this process."""
    return bool(settings.BOTS_IN_PROCESS) or not _serving


# --- noticing a bot's turn (inside the move's transaction) --------------------


def bot_to_act(data: MatchData) -> tuple[int, int, str] | None:
    """The bot player and seat that should act in ``data`` now, and how
    (``move``, or ``rematch`` when the opponent asked for one), if any.
    Only dictionary lookups and the game's ``turn``."""
    known = bot_services.known_bots
    bots = [player for player in data["players"] if player["id"] in known]
    if not bots:
        return None
    if data["status"] == Status.ACTIVE:
        game = get_game(data["game"])
        if isinstance(game, RealtimeGame):
            return None  # its loop plays the bot's seat, tick by tick (bot_input)
        turn = game.turn(data["state"])
        for player in bots:
            if player["seat"] in turn:
                return player["id"], player["seat"], EventKind.MOVE
        return None
    rematch = data["rematch"]
    if data["status"] == Status.FINISHED and rematch["seats"] and rematch["match"] is None:
        for player in bots:
            if player["seat"] not in rematch["seats"]:
                return player["id"], player["seat"], EventKind.REMATCH
    return None


def on_event_logged(sender: Any, match: Any, data: MatchData, event: Any, **kwargs: Any) -> None:
    """``event_logged`` receiver: when a bot should act, ask for it after commit."""
    bot_services.maybe_refresh_known_bots()
    if bot_to_act(data) is None:
        return
    match_id, seq = data["id"], data["seq"]
    transaction.on_commit(lambda: notify(match_id, seq), robust=True)


def notify(match_id: int, seq: int) -> None:
    """Tell a runner that a bot should act in ``match_id`` at ``seq``: this
    process's, or the workers' through the channel layer."""
    if runs_bots():
        runner.request(match_id, seq)
    else:
        broadcast.send_to_group(GROUP, {"type": TURN_MESSAGE, "match": match_id, "seq": seq})


# --- one turn (on the runner's database threads) ------------------------------


@dataclass(frozen=True)
class Turn:
    """What a bot is about to do: ``kind`` at ``seq``, with ``move`` already
    chosen (a random or hidden-information policy) or a ``request`` to think."""

    match_id: int
    player_id: int
    seq: int
    kind: str
    move: MoveJson | None
    request: ThinkRequest | None
    fallback: MoveJson | None


def prepare_turn(match_id: int) -> Turn | None:
    """The bot's turn in the match as it stands, if a bot should act."""
    try:
        data = services.load_match(match_id).match
    except services.GameError:
        return None
    acting = bot_to_act(data)
    if acting is None:
        # The server that asked may know a bot this process has not met yet.
        bot_services.refresh_known_bots()
        acting = bot_to_act(data)
    if acting is None:
        return None
    player_id, seat, kind = acting
    seq = data["seq"]
    if kind == EventKind.REMATCH:
        return Turn(match_id, player_id, seq, kind, None, None, None)
    level = LEVELS[bot_services.known_bots[player_id]]
    game = get_game(data["game"])
    state = data["state"]  # only a random policy sees it when the game hides anything (strategies.plan)
    # Never derived from what a player can see (the match id, the seq): a
    # seeded choice could be replayed, and a random fleet is a secret.
    seed = secrets.randbits(63)
    spec = plan(game, level)
    if spec == RANDOM:
        return Turn(match_id, player_id, seq, kind, choose(RANDOM, game, state, seat, level, seed, 0.0), None, None)
    budget = thinking_time(data, seat, level.budget)
    request = ThinkRequest(game_path(game), state, seat, level.number, spec, seed, budget)
    fallback = choose(RANDOM, game, state, seat, level, seed, 0.0)
    return Turn(match_id, player_id, seq, kind, None, request, fallback)


#: The share of a move timeout, and of the time left on a clock, a bot may think.
SHARE_OF_MOVE_TIMEOUT = 0.5
SHARE_OF_CLOCK = 1 / 30
SHORTEST_THOUGHT = 0.05


def thinking_time(data: MatchData, seat: int, budget: float) -> float:
    """The level's budget, less when the match's time is short: a bot never
    loses on time by thinking (half a move timeout, a thirtieth of its clock)."""
    seconds = budget
    if "move_timeout" in data["options"]:
        seconds = min(seconds, data["options"]["move_timeout"] * SHARE_OF_MOVE_TIMEOUT)
    clocks = remaining_ms(data, timezone.now())
    if clocks is not None:
        seconds = min(seconds, clocks[seat] / 1000 * SHARE_OF_CLOCK)
    return max(SHORTEST_THOUGHT, seconds)


def play(turn: Turn, move: MoveJson | None) -> str:
    """Act; returns ``"accepted"`` or the refusal's code."""
    player = Player.objects.filter(pk=turn.player_id).first()
    if player is None:
        return ErrorCode.NOT_A_PLAYER
    outcome = services.act(turn.match_id, player, turn.kind, move, expected_seq=turn.seq)
    if outcome.refusal is None:
        return "accepted"
    if outcome.refusal.code in OVERTAKEN:
        logger.debug("bot %s in match %s was overtaken: %s", player.pk, turn.match_id, outcome.refusal.code)
        return outcome.refusal.code
    logger.warning("bot %s in match %s refused: %s", player.pk, turn.match_id, outcome.refusal.message)
    if turn.fallback is not None and move != turn.fallback:
        # A strategy's move the rules refuse (an engine's bug, a stale
        # position) must not stall the bot: the sweep would ask it again
        # and again. The random legal move comes from the rules themselves.
        return play(Turn(turn.match_id, turn.player_id, turn.seq, turn.kind, None, None, None), turn.fallback)
    return outcome.refusal.code


_sweep_cursor = {"after": 0}


def due_turns() -> list[tuple[int, int]]:
    """Active matches, quiet for :data:`QUIET_BEFORE_SWEEP`, where a bot is in
    turn: ``(match id, seq)``. Each sweep reads the next :data:`SWEEP_LIMIT`
    matches with a bot seated, in id order, and starts again from the first
    once it has seen them all: matches waiting on their human (any number)
    cannot hide a bot's turn from the sweep for more than a round."""
    bot_ids = list(bot_services.refresh_known_bots())
    if not bot_ids:
        return []
    rows = list(
        Seat.objects.filter(
            player_id__in=bot_ids,
            match__status=Status.ACTIVE,
            match__updated_at__lte=timezone.now() - QUIET_BEFORE_SWEEP,
            match_id__gt=_sweep_cursor["after"],
        )
        .order_by("match_id")
        .values_list("match_id", "seat", "match__game", "match__state", "match__seq")[:SWEEP_LIMIT]
    )
    _sweep_cursor["after"] = rows[-1][0] if len(rows) == SWEEP_LIMIT else 0
    due = []
    for match_id, seat, game, state, seq in rows:
        try:
            rules = get_game(game)
            if not isinstance(rules, RealtimeGame) and seat in rules.turn(state):
                due.append((match_id, seq))
        except Exception:
            logger.exception("bots: could not read whose turn it is in match %s", match_id)
    return due


# --- the runner -----------------------------------------------------------------


class Thinkers:
    """The pool of thinking processes, started on first use (``spawn``: a
    fresh interpreter, nothing of the server's threads or connections)."""

    def __init__(self) -> None:
        self._pool: multiprocessing.pool.Pool | None = None
        self._lock = threading.Lock()
        atexit.register(self.restart)  # stop the processes while the interpreter is still whole

    def pool(self) -> multiprocessing.pool.Pool:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(processes=max(1, settings.BOTS_THINKING_PROCESSES))
                self._pool.apply_async(warm_up)
            return self._pool

    def restart(self) -> None:
        """Terminate the processes (a search that overran) and start afresh on next use."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()


class Runner:
    """Plays bots' turns on one event loop: the server's (in-process) or the
    worker's. Requests may come from any thread."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.in_flight: dict[int, int] = {}  # match id -> the seq a task is playing (loop thread only)
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bots-db")
        self.thinkers = Thinkers()
        self.listener: asyncio.Task | None = None
        # As many decisions at once as there are thinking processes: a
        # decision's time limit then counts its thinking, not its wait.
        self.slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task] = set()

    def on_database(self, func: Callable[P, R]) -> Callable[P, Any]:
        return DatabaseSyncToAsync(func, thread_sensitive=False, executor=self.executor)

    # --- attaching to an event loop

    def attached(self) -> bool:
        return self.loop is not None and self.loop.is_running() and not self.loop.is_closed()

    async def attach(self, listen: bool | None = None) -> None:
        """Run on the calling event loop from now on; a worker (a process
        that serves nothing) also listens to the ``bots`` group."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self._use(loop)
        if (not _serving if listen is None else listen) and (self.listener is None or self.listener.done()):
            self.listener = loop.create_task(self.listen())
            # A worker starts its thinking processes now, so its first search
            # does not wait for them (a server, on its first search).
            loop.run_in_executor(self.executor, self.thinkers.pool)

    def _use(self, loop: asyncio.AbstractEventLoop) -> None:
        # A new loop (the first, or a test's next): what belonged to the old one goes.
        self.loop, self.in_flight, self.listener, self.slots = loop, {}, None, None

    def request(self, match_id: int, seq: int) -> None:
        """Have the bot in turn in ``match_id`` act (from any thread). Before
        the runner is attached to a loop, only a socket's database thread can
        attach it; otherwise the request is left to the sweep."""
        loop = self.loop if self.attached() else calling_loop()
        if loop is None:
            logger.debug("bots: no event loop yet for match %s; the sweep will catch up", match_id)
            return
        if self.loop is not loop:
            self._use(loop)
        try:
            loop.call_soon_threadsafe(self._schedule, match_id, seq)
        except RuntimeError:  # the loop closed meanwhile
            logger.debug("bots: event loop closed; the sweep will catch up with match %s", match_id)

    def _schedule(self, match_id: int, seq: int) -> None:
        if self.in_flight.get(match_id, -1) >= seq:
            return
        self.in_flight[match_id] = seq
        task = asyncio.get_running_loop().create_task(self._turn(match_id, seq))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _turn(self, match_id: int, seq: int) -> None:
        try:
            await self.play_turn(match_id)
        except Exception:
            logger.exception("bots: the turn in match %s failed", match_id)
        finally:
            if self.in_flight.get(match_id) == seq:
                del self.in_flight[match_id]

    async def play_turn(self, match_id: int) -> str | None:
        """Prepare, think and act once; the outcome, or ``None`` when no bot should act."""
        turn = await self.on_database(prepare_turn)(match_id)
        if turn is None:
            return None
        move = turn.move
        if turn.request is not None:
            if self.slots is None:
                self.slots = asyncio.Semaphore(max(1, settings.BOTS_THINKING_PROCESSES))
            async with self.slots:
                move = await self.think(turn.request)
            if move is None:
                move = turn.fallback
        if move is None and turn.kind == EventKind.MOVE:
            return None
        return await self.on_database(play)(turn, move)

    async def think(self, request: ThinkRequest) -> MoveJson | None:
        """The thinking process's move, or ``None`` if it failed or overran."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[MoveJson | None] = loop.create_future()

        def settle(value: Any) -> None:
            if not answer.done():
                answer.set_result(value if isinstance(value, dict) else None)

        def failed(error: BaseException) -> None:
            logger.error("bots: thinking failed: %r", error)
            loop.call_soon_threadsafe(settle, None)

        pool = await loop.run_in_executor(self.executor, self.thinkers.pool)
        try:
            pool.apply_async(think, (request,), callback=lambda value: loop.call_soon_threadsafe(settle, value),
                             error_callback=failed)  # fmt: skip
        except ValueError:  # the pool was terminated (another decision overran) since we took it
            logger.warning("bots: the thinking processes restarted under a decision; it falls back")
            return None
        try:
            return await asyncio.wait_for(answer, request.budget + GRACE_SECONDS)
        except TimeoutError:
            logger.error("bots: a decision overran %.1f s; restarting the thinking processes", request.budget)
            await loop.run_in_executor(self.executor, self.thinkers.restart)
            return None

    # --- the worker's channel

    async def listen(self) -> None:
        """Receive ``bot.turn`` messages sent to the group ``bots`` (servers
        whose bots live here), until cancelled."""
        layer = get_channel_layer()
        if layer is None:
            return
        while True:
            try:
                channel = await layer.new_channel("bots.")
                await layer.group_add(GROUP, channel)
                joined = asyncio.get_running_loop().time()
                logger.info("bots: listening for bot turns (group %r)", GROUP)
                while True:
                    try:  # woken at least every REJOIN_EVERY_SECONDS, so a quiet day never expires the membership
                        message = await asyncio.wait_for(layer.receive(channel), REJOIN_EVERY_SECONDS)
                    except TimeoutError:
                        message = {}
                    if message.get("type") == TURN_MESSAGE:
                        self._schedule(int(message["match"]), int(message["seq"]))
                    if asyncio.get_running_loop().time() - joined >= REJOIN_EVERY_SECONDS:
                        await layer.group_add(GROUP, channel)
                        joined = asyncio.get_running_loop().time()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("bots: listening to the channel layer failed; retrying")
                await asyncio.sleep(1)

    # --- the sweep

    def sweep(self) -> None:
        """The clock sweep's task (synchronous, on the clock's database
        thread): attach to the clock's loop, then ask for every turn due."""
        if not runs_bots():
            return
        if not self.attached():
            async_to_sync(self.attach)()
        for match_id, seq in due_turns():
            self.request(match_id, seq)


runner = Runner()
