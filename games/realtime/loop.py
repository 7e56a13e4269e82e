"""One live real-time match's loop, run by the process that holds its lease.

Three tasks, stopped together:

* **ticking**: tick ``n`` is due at the lease's ``started_at`` plus ``n``
  tick intervals (mapped onto the event loop's clock once), so lateness never
  accumulates. Each tick applies the inputs queued since the last one (the
  players', then the computer players' ``bot_input``), broadcasts a ``tick``
  frame every ``frame_every`` ticks and queues a write when the tick had
  inputs or ended the match. Each tick's lateness goes to the
  ``games_realtime_tick_lateness_seconds`` histogram.
* **writing**: the queued ticks, in order, through ``services.log_ticks`` on
  a database thread (fenced by the lease's epoch), so the database never
  holds up the schedule. When the loop stops for any reason, what is queued
  is still written (fenced, for at most a lease): players saw those ticks.
* **renewing**: the lease, every ``RENEW_SECONDS``, with the last tick run.

A tick that raises (a bug in the game's rules or its ``bot_input``) would
fail on any process: the loop gives up and aborts the match (fenced), so it
neither stalls under a lease that is still renewed nor moves from process
to process.

The loop acts (ticks, broadcasts, writes) only while its last successful
renewal is younger than the lease less a margin: a paused owner that comes
back after its lease lapsed stops before doing anything, and if another
process took over meanwhile its writes are fenced anyway.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from prometheus_client import Gauge, Histogram

from games import broadcast, services
from games.database_threads import on_database
from games.engine.clocks import format_time
from games.engine.errors import ErrorCode, GameError
from games.engine.game import IllegalMove, MoveModel, State
from games.engine.realtime import RealtimeGame
from games.realtime import config
from games.realtime.lease import Fenced, Taken, abort_owned, fence, realtime_game, release, renew

logger = logging.getLogger(__name__)

TICK_LATENESS = Histogram(
    "games_realtime_tick_lateness_seconds",
    "How late each real-time tick ran after the time it was due",
    buckets=(0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
LOOPS = Gauge("games_realtime_loops", "Real-time match loops this process runs")

#: An input waiting for the next tick: the seat, the JSON sent, the parsed model.
Queued = tuple[int, Any, MoveModel]
#: A tick to log: its number and the inputs applied at it, in arrival order.
Write = tuple[int, list[tuple[int, Any]]]


class Drain:
    """Queued after the last write when the loop stops: the writer returns."""


DRAIN = Drain()


class Refusal(Exception):
    """An input the owner does not take; the sender's socket is told why."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class MatchLoop:
    """The loop of the match this process took over (see the module docstring)."""

    def __init__(self, taken: Taken, renewed_at: float) -> None:
        game = realtime_game(taken.data["game"])
        assert game is not None and game.tick_ms is not None, "only a real-time match has a loop"
        self.game: RealtimeGame = game
        self.match_id, self.epoch, self.started_at = taken.match_id, taken.epoch, taken.started_at
        self.bots = taken.bots
        self.state: State = taken.data["state"]
        self.renewed_at = renewed_at  # time.monotonic() when the last successful renewal was asked for
        self.pending: list[Queued] = []
        self.counts: Counter[int] = Counter()
        self.framed: State = self.state  # the state as of the last frame sent
        self.unframed: list[list[Any]] = []  # inputs applied since the last frame
        self.writes: asyncio.Queue[Write | Drain | None] = asyncio.Queue()
        self.rng = random.Random(secrets.randbits(64))
        self.stopping = asyncio.Event()
        self.reason = ""
        self.resumed_from = taken.tick
        self.ticking = taken.tick  # the tick being run (for a failure's message)
        self.ended = self._catch_up(taken.tick)

    # --- lifetime ------------------------------------------------------------

    async def run(self) -> None:
        """Tick, write and renew until the match ends or the lease is lost;
        then write what is queued (renewing meanwhile), and give up the
        match if a tick failed."""
        LOOPS.inc()
        writer, renewer = asyncio.create_task(self._write()), asyncio.create_task(self._renew())
        ticker = None
        if self.ended:
            self.writes.put_nowait(None)
        else:
            ticker = asyncio.create_task(self._tick())
            ticker.add_done_callback(self._ticker_done)
        stopping = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait({stopping, writer}, return_when=FIRST_COMPLETED)
        finally:
            self.stop("stopped")
            for task in (stopping, ticker):
                if task is not None:
                    task.cancel()
            await asyncio.gather(stopping, *([ticker] if ticker else []), return_exceptions=True)
            await self._drain(writer)
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            LOOPS.dec()
        if not writer.cancelled() and writer.exception() is not None:
            logger.error("real-time match %s: the writer failed", self.match_id, exc_info=writer.exception())
        failure = ticker.exception() if ticker is not None and not ticker.cancelled() else None
        if failure is not None:
            await give_up(self.match_id, self.epoch, f"tick {self.ticking}", failure)
        logger.info("real-time match %s (epoch %s): loop ended: %s", self.match_id, self.epoch, self.reason)

    def _ticker_done(self, ticker: asyncio.Task[None]) -> None:
        if not ticker.cancelled() and ticker.exception() is not None:
            self.stop(f"tick {self.ticking} raised {type(ticker.exception()).__name__}")

    async def _drain(self, writer: asyncio.Task[None]) -> None:
        """Let the writer log what is queued (each write still fenced, and
        only while the lease surely holds), then end it."""
        if not writer.done():
            self.writes.put_nowait(DRAIN)
            done, _ = await asyncio.wait({writer}, timeout=config.lease_seconds())
            if not done:
                writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)

    def stop(self, reason: str) -> None:
        """End the loop (the first reason given is kept, for the log)."""
        if not self.stopping.is_set():
            self.reason = reason
            self.stopping.set()

    @property
    def stopped(self) -> bool:
        return self.stopping.is_set()

    def holds_lease(self) -> bool:
        """Whether the lease surely is still ours: renewed recently enough."""
        return time.monotonic() - self.renewed_at < config.lease_seconds() - config.margin_seconds()

    # --- inputs and snapshots (from the supervisor's channel) ------------------

    def take_input(self, seat: int, sent: Any) -> None:
        """Queue a player's input for the next tick, or :class:`Refusal`."""
        if self.stopped or self.ended:
            raise Refusal(ErrorCode.MATCH_NOT_ACTIVE, "the match is over")
        if seat not in self.game.turn(self.state):
            raise Refusal(ErrorCode.NOT_YOUR_TURN, "your seat is out of play")
        if self.counts[seat] >= self.game.inputs_per_tick:
            raise Refusal(
                ErrorCode.RATE_LIMITED, f"{self.game.slug} takes at most {self.game.inputs_per_tick} inputs per tick"
            )
        try:
            parsed = self.game.parse_move(sent)
        except IllegalMove as refusal:
            raise Refusal(ErrorCode.ILLEGAL_MOVE, refusal.reason) from None
        self.pending.append((seat, sent, parsed))
        self.counts[seat] += 1

    def snapshot(self) -> dict[str, Any]:
        """The match's live part as of the last frame sent, for a socket's
        snapshot: the next frame is what changed since then."""
        return {
            "match": self.match_id,
            "tick": self.framed["tick"],
            "state": self.framed,
            "epoch": self.epoch,
            "starts_at": format_time(self.started_at),
        }

    # --- ticking ---------------------------------------------------------------

    def _catch_up(self, tick: int) -> bool:
        """Run the ticks between the last one logged and ``tick`` (the last one
        the previous owner reported): none had inputs that reached the log.
        Returns whether the match ended on the way (that tick is then logged)."""
        while self.state["tick"] < tick:
            self.state = self.game.apply_tick(self.state, self.state["tick"] + 1, {})
            if self.game.tick_result(self.state) is not None:
                self.writes.put_nowait((self.state["tick"], []))
                self._broadcast(self.state["tick"])
                return True
        self.framed = self.state
        return False

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        tick_seconds = (self.game.tick_ms or 0) / 1000
        base = loop.time() + seconds_until(self.started_at)
        while True:
            number = self.state["tick"] + 1
            due = base + number * tick_seconds
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.holds_lease():
                self.stop("the lease was not renewed in time")
                return
            TICK_LATENESS.observe(max(0.0, loop.time() - due))
            self.ticking = number
            if self.run_tick(number):
                self.writes.put_nowait(None)
                return

    def run_tick(self, number: int) -> bool:
        """Apply tick ``number``; returns whether it ended the match."""
        before = self.state
        inputs = [queued for queued in self._inputs(before) if queued[0] in self.game.turn(before)]
        by_seat: dict[int, list[MoveModel]] = {}
        for seat, _, parsed in inputs:
            by_seat.setdefault(seat, []).append(parsed)
        self.state = self.game.apply_tick(before, number, by_seat)
        ended = self.ended = self.game.tick_result(self.state) is not None
        applied = [(seat, sent) for seat, sent, _ in inputs]
        self.unframed.extend([seat, sent] for seat, sent in applied)
        # A logged tick gets a frame too, so every state a client is given
        # (a snapshot, an event's match) is one the next frame follows from.
        if ended or applied or number % self.game.frame_every == 0:
            self._broadcast(number)
        if applied or ended:
            self.writes.put_nowait((number, applied))
        return ended

    def _inputs(self, state: State) -> list[Queued]:
        """The players' inputs queued for this tick, then the computer's."""
        inputs, self.pending = self.pending, []
        self.counts.clear()
        for seat in sorted(self.bots):
            if seat not in self.game.turn(state):
                continue
            sent = self.game.bot_input(state, seat, self.rng)
            if sent is None:
                continue
            try:
                inputs.append((seat, sent, self.game.parse_move(sent)))
            except IllegalMove as refusal:
                logger.warning("%s: bot_input gave an input its Move refuses: %s", self.game.slug, refusal.reason)
        return inputs

    def _broadcast(self, number: int) -> None:
        frame = self.game.frame(self.framed, self.state)
        since = self.framed["tick"]
        message = broadcast.tick_broadcast(self.match_id, number, self.epoch, frame, self.unframed, since)
        broadcast.send_frame_soon(self.match_id, message)
        self.framed, self.unframed = self.state, []

    # --- writing and renewing ------------------------------------------------------

    async def _write(self) -> None:
        """Log the queued ticks in order; ``None`` in the queue: the match
        ended and everything before it is written; ``DRAIN``: the loop stopped."""
        check = fence(self.match_id, self.epoch)
        while True:
            item = await self.writes.get()
            if isinstance(item, Drain):
                return
            if item is None:
                await on_database(release)(self.match_id, self.epoch)
                self.stop("the match ended")
                return
            if not self.holds_lease():
                self.stop("the lease was not renewed in time")
                return
            if not await self._log(item, check):
                return

    async def _log(self, item: Write, check: Callable[[], None]) -> bool:
        """Log one tick; ``False`` (the loop is stopped): it was not."""
        tick, inputs = item
        try:
            await on_database(services.log_ticks)(self.match_id, tick, inputs, self.epoch, check)
            return True
        except Fenced:
            self.stop("fenced: the lease is gone (another process took the match over, or it ended)")
        except GameError as refusal:
            self.stop(f"tick {tick} was not logged: {refusal.code} ({refusal.message})")
        except Exception:
            # The log and this loop's state now differ: stop and let the lease
            # lapse, so the next owner resumes from what the log holds.
            logger.exception("real-time match %s: logging tick %s failed", self.match_id, tick)
            self.stop(f"logging tick {tick} failed")
        return False

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(config.renew_seconds())
            asked = time.monotonic()
            try:
                kept = await on_database(renew)(self.match_id, self.epoch, self.state["tick"])
            except Exception:
                logger.warning("real-time match %s: renewing the lease failed", self.match_id, exc_info=True)
                continue
            if not kept:
                self.stop("the lease is gone: taken over, or the match ended")
                return
            self.renewed_at = asked


async def give_up(match_id: int, epoch: int, where: str, failure: BaseException) -> None:
    """A tick (or catching up) raised: the game's code fails on this match,
    on any process. Abort the match, if the lease is still ours."""
    logger.error("real-time match %s: %s raised; aborting the match", match_id, where, exc_info=failure)
    reason = f"the game failed at {where} ({type(failure).__name__})"
    try:
        await on_database(abort_owned)(match_id, epoch, reason)
    except Fenced:
        logger.info("real-time match %s: not aborted, the lease is no longer at epoch %s", match_id, epoch)
    except Exception:
        logger.exception("real-time match %s: aborting it failed", match_id)


def seconds_until(moment: datetime) -> float:
    """Seconds from now to ``moment`` (negative once it has passed)."""
    return (moment - timezone.now()).total_seconds()
