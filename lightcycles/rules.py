"""Light cycles: 2 to 4 cycles race on a square grid, each leaving a solid
trail behind it; touch a wall or a trail and you are out. Pure Python: no
Django. A real-time game (:class:`~games.engine.realtime.RealtimeGame`): the
world advances one tick every 50 ms (20 Hz) whether or not anyone acts.

Options: ``{"size": 10..64}``, the side of the square grid (default 32).

The state, a JSON object. Here a 2-player match on a 10x10 grid after tick
4: seat 1 turned down on tick 2 and seat 0, going straight, ran into its
trail on tick 4::

    {
        "grid": ["..........", "..........", "..........", "..........",
                 "......11..", "..00001...", "......1...", "......1...",
                 "..........", ".........."],
        "cycles": [
            {"x": 5, "y": 5, "dir": "right", "alive": false},
            {"x": 6, "y": 7, "dir": "down", "alive": true}
        ],
        "tick": 4,                # the last tick applied (0 at the start)
        "crashed_at": [4, null],  # per seat: the tick it crashed on, else null
        "queued": [null, null]    # per seat: a turn carried to the next tick, else null
    }

``grid[y][x]`` is row ``y`` (0 at the top), column ``x`` (0 at the left):
``"."`` empty, ``"0"``..``"3"`` a cell of that seat's trail. A cycle's own
cell (its head) is part of its trail. ``cycles[seat]`` is where the seat's
head is and where it is heading (``"up"`` is towards row 0). A crashed
cycle stays on the last cell it reached (the fatal cell is never written),
its ``dir`` the way it was going when it crashed, and its trail stays.
``alive`` is ``crashed_at[seat] is None``; ``crashed_at`` shows who went out
when.

Start (``m = size // 4`` cells from the walls, ``c = size // 2``), every
cycle facing inward:

* 4 players: (m, c) right, (size-1-c, m) down, (size-1-m, size-1-c) left,
  (c, size-1-m) up: the layout is exactly the same after a quarter turn of
  the grid, which maps each seat's start onto the next seat's.
* 2 players: the first and third of those: exactly the same after a half turn.
* 3 players: a square has no three-fold symmetry, so the layout is a "T"
  as fair as the grid allows: seat 1 at ((size-1) // 2, m) heading down,
  seats 0 and 2 mirror images at (m, c+1) heading right and
  (size-1-m, c+1) heading left. One row below the middle balances the
  cells each seat reaches first: within 9 % of each other from size 32
  up, 18 % from 20 up, a third on the smallest even grids (where seat 1's
  column, half a cell off the middle, weighs most).

An input (the ``Move`` model) is ``{"dir": "up" | "down" | "left" | "right"}``.
``inputs_per_tick`` is 2 so a quick double turn works: a U-turn (say
``up`` then ``left`` while heading right) is two turns on two consecutive
ticks, and both key presses easily land inside one 50 ms tick. At each
tick, a seat's input queue is the turn carried from the last tick (if any),
then its inputs for this tick in the order they arrived. The first input
in it that turns the cycle (neither its current heading, nor the reversal
of it: a 180-degree turn would drive into its own trail) is applied; after
it, the first input that turns the cycle again (from its new heading) is
carried to the next tick (``queued``) and applied there, before that
tick's inputs; everything else is ignored. A cycle thus turns at most once
per tick and at most one input ever waits, so a late input never piles up.

Then every cycle still alive moves one cell in its heading, all at once. A
cycle crashes when the cell it moves to is off the grid, is on any trail
(its own included, or the cell another head is leaving), or is the cell
another cycle moves to on this tick (all of those crash). Two cycles
swapping cells head-on both crash (each enters the other's trail).

The end (:meth:`LightCycles.result`): one cycle alive, it wins
(``last_cycle``); none left, the last ones crashed on the same tick: a
draw (``collision``); ``size * size`` ticks applied with two or more alive:
a draw (``time``), a safety net the grid's filling reaches first (two
cycles fill two cells a tick). The class's ``max_ticks`` (4096, the
biggest grid's) bounds every match for the loop.

A frame (:meth:`LightCycles.frame`, broadcast every tick) is what one tick
changed, about 20 bytes per cycle (that tick 4: 61 bytes as compact JSON)::

    {"tick": 4, "heads": [[5, 5, "right"], [6, 7, "down"]], "crashed": [0]}

``heads[seat]`` is ``[x, y, dir]`` after the tick for every seat alive
before it, ``null`` for seats already out; ``crashed`` lists the seats that
crashed on this tick; ``queued`` (the state's list) appears only when a
turn is carried. :func:`apply_frame` applies one to a state: a client that
applies every frame in order to the initial state holds the server's state
exactly.

:meth:`LightCycles.legal_moves` yields the inputs that would turn the seat
(the two directions square to its heading, or to its queued turn), in the
order up, down, left, right; nothing for a seat out or once the match is
over. Nothing is hidden: every viewer sees the whole state.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from games.engine import MoveModel, OptionsModel, Result, State
from games.engine.realtime import RealtimeGame

MIN_SIZE, DEFAULT_SIZE, MAX_SIZE = 10, 32, 64
EMPTY = "."
SEAT_MARKS = "0123"
Direction = Literal["up", "down", "left", "right"]
#: Every direction, in the fixed order of legal_moves, and its (dx, dy).
STEPS: dict[str, tuple[int, int]] = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
OPPOSITE = {"up": "down", "down": "up", "left": "right", "right": "left"}
#: The free cells the bot's flood fill counts at most, per direction looked at.
ROOM = 48

Grid = list[str]


class LightCyclesInput(MoveModel):
    """``{"dir": "up" | "down" | "left" | "right"}``: turn that way."""

    dir: Direction


class LightCyclesOptions(OptionsModel):
    """``{"size": 10..64}``: the side of the square grid (default 32)."""

    size: Annotated[int, Field(ge=MIN_SIZE, le=MAX_SIZE)] = DEFAULT_SIZE


def starts(size: int, seats: int) -> list[tuple[int, int, str]]:
    """Each seat's start ``(x, y, dir)`` (see the module docstring)."""
    m, c = size // 4, size // 2
    if seats == 3:
        return [(m, c + 1, "right"), ((size - 1) // 2, m, "down"), (size - 1 - m, c + 1, "left")]
    four = [(m, c, "right"), (size - 1 - c, m, "down"), (size - 1 - m, size - 1 - c, "left"), (c, size - 1 - m, "up")]
    return [four[0], four[2]] if seats == 2 else four


def turns(heading: str, direction: str) -> bool:
    """Whether ``direction`` turns a cycle heading ``heading`` (a quarter turn)."""
    return direction != heading and direction != OPPOSITE[heading]


def steer(heading: str, wanted: Iterable[str]) -> tuple[str, str | None]:
    """The heading for this tick and the turn carried to the next one, from
    the input queue ``wanted`` (see the module docstring)."""
    turned = False
    for direction in wanted:
        if turns(heading, direction):
            if turned:
                return heading, direction
            heading, turned = direction, True
    return heading, None


def free(grid: Grid, x: int, y: int) -> bool:
    """Whether (x, y) is on the grid and empty."""
    return 0 <= y < len(grid) and 0 <= x < len(grid) and grid[y][x] == EMPTY


def room(grid: Grid, x: int, y: int, limit: int = ROOM) -> int:
    """The free cells reachable from the free cell (x, y), counting it,
    counted up to ``limit`` (a bounded flood fill: at most ``limit`` cells visited)."""
    if not free(grid, x, y):
        return 0
    seen = {(x, y)}
    todo = deque(seen)
    while todo and len(seen) < limit:
        cx, cy = todo.popleft()
        for dx, dy in STEPS.values():
            cell = (cx + dx, cy + dy)
            if cell not in seen and free(grid, *cell):
                seen.add(cell)
                todo.append(cell)
    return min(len(seen), limit)


def apply_frame(state: State, frame: dict[str, Any]) -> State:
    """``state`` with one tick's ``frame`` applied (a new state; ``state`` is
    not changed). Frames applied in order rebuild the server's state exactly."""
    crashed = set(frame["crashed"])
    rows = list(state["grid"])
    cycles = [dict(cycle) for cycle in state["cycles"]]
    crashed_at = list(state["crashed_at"])
    for seat, head in enumerate(frame["heads"]):
        if head is None:
            continue
        x, y, direction = head
        cycles[seat].update(x=x, y=y, dir=direction)
        if seat in crashed:
            cycles[seat]["alive"] = False
            crashed_at[seat] = frame["tick"]
        else:
            rows[y] = rows[y][:x] + SEAT_MARKS[seat] + rows[y][x + 1 :]
    queued = list(frame.get("queued") or [None] * len(cycles))
    return {"grid": rows, "cycles": cycles, "tick": frame["tick"], "crashed_at": crashed_at, "queued": queued}


class LightCycles(RealtimeGame[LightCyclesInput]):
    slug = "lightcycles"
    name = "Light cycles"
    min_players = 2
    max_players = 4
    Move = LightCyclesInput
    Options = LightCyclesOptions
    allows_draw_offers = False
    board_script = "lightcycles/board.js"
    tick_ms = 50
    frame_every = 1
    inputs_per_tick = 2
    max_ticks = MAX_SIZE * MAX_SIZE

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        if not self.min_players <= seats <= self.max_players:
            raise ValueError(f"light cycles takes {self.min_players} to {self.max_players} players, not {seats}")
        # The stored options also hold the engine's own (rated, abandon_timeout).
        own = {key: value for key, value in options.items() if key in LightCyclesOptions.model_fields}
        size = LightCyclesOptions.model_validate(own).size
        rows = [[EMPTY] * size for _ in range(size)]
        cycles = []
        for seat, (x, y, direction) in enumerate(starts(size, seats)):
            rows[y][x] = SEAT_MARKS[seat]
            cycles.append({"x": x, "y": y, "dir": direction, "alive": True})
        return {
            "grid": ["".join(row) for row in rows],
            "cycles": cycles,
            "tick": 0,
            "crashed_at": [None] * seats,
            "queued": [None] * seats,
        }

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        return [seat for seat, cycle in enumerate(state["cycles"]) if cycle["alive"]]

    def apply_tick(self, state: State, tick: int, inputs: dict[int, list[LightCyclesInput]]) -> State:
        """Steer, then move every cycle alive one cell at once (see the module
        docstring); the new state's ``tick`` is ``tick``. Inputs of a seat out
        (or of no seat) are ignored. Only the rows a cycle entered are new
        strings: the rest are shared with ``state``, which is never changed.
        Purely mechanical: it also moves what is alive in a state whose
        match is over (the loop stops calling it then)."""
        grid: Grid = state["grid"]
        size = len(grid)
        cycles = [dict(cycle) for cycle in state["cycles"]]
        crashed_at = list(state["crashed_at"])
        queued: list[str | None] = [None] * len(cycles)
        targets: dict[int, tuple[int, int]] = {}
        for seat, cycle in enumerate(cycles):
            if not cycle["alive"]:
                continue
            carried = state["queued"][seat]
            wanted = [*([carried] if carried is not None else []), *(move.dir for move in inputs.get(seat, ()))]
            cycle["dir"], queued[seat] = steer(cycle["dir"], wanted)
            dx, dy = STEPS[cycle["dir"]]
            targets[seat] = (cycle["x"] + dx, cycle["y"] + dy)
        taken = Counter(targets.values())
        rows = list(grid)
        for seat, (x, y) in targets.items():
            cycle = cycles[seat]
            if not (0 <= x < size and 0 <= y < size) or grid[y][x] != EMPTY or taken[x, y] > 1:
                cycle["alive"] = False
                crashed_at[seat] = tick
                queued[seat] = None
            else:
                cycle["x"], cycle["y"] = x, y
                rows[y] = rows[y][:x] + SEAT_MARKS[seat] + rows[y][x + 1 :]
        return {"grid": rows, "cycles": cycles, "tick": tick, "crashed_at": crashed_at, "queued": queued}

    def result(self, state: State) -> Result | None:
        alive = [seat for seat, cycle in enumerate(state["cycles"]) if cycle["alive"]]
        if len(alive) == 1:
            return Result(winner=alive[0], reason="last_cycle")
        if not alive:
            return Result(winner=None, reason="collision")
        if state["tick"] >= len(state["grid"]) ** 2:
            return Result(winner=None, reason="time")
        return None

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        if seat not in self.turn(state):
            return
        heading = state["queued"][seat] or state["cycles"][seat]["dir"]
        for direction in STEPS:
            if turns(heading, direction):
                yield {"dir": direction}

    def frame(self, before: State, after: State) -> dict[str, Any]:
        heads = [
            [cycle["x"], cycle["y"], cycle["dir"]] if was["alive"] else None
            for was, cycle in zip(before["cycles"], after["cycles"], strict=True)
        ]
        crashed = [
            seat
            for seat, (was, cycle) in enumerate(zip(before["cycles"], after["cycles"], strict=True))
            if was["alive"] and not cycle["alive"]
        ]
        frame: dict[str, Any] = {"tick": after["tick"], "heads": heads, "crashed": crashed}
        if any(turn is not None for turn in after["queued"]):
            frame["queued"] = list(after["queued"])
        return frame

    def bot_input(self, state: State, seat: int, rng: random.Random) -> dict[str, Any] | None:
        """Keep straight while the cell ahead is free, safe from the other
        heads' next step and opens onto at least ``ROOM`` free cells;
        otherwise take the free way (straight or a side) with the most room
        (a flood fill bounded to ``ROOM`` cells each, well under a
        millisecond on the biggest grid), then away from the other heads,
        then straight, then hugging walls and trails (which fills space
        tightly), then at random. Nothing for a cycle out or while a turn is
        queued. Looks at the grid only, not at whether the match is over."""
        if not state["cycles"][seat]["alive"] or state["queued"][seat] is not None:
            return None
        grid: Grid = state["grid"]
        cycle = state["cycles"][seat]
        heading, x, y = cycle["dir"], cycle["x"], cycle["y"]
        danger = set()
        for other, them in enumerate(state["cycles"]):
            if other != seat and them["alive"]:
                for direction, (dx, dy) in STEPS.items():
                    if direction != OPPOSITE[them["dir"]]:
                        danger.add((them["x"] + dx, them["y"] + dy))
        scored = []
        for direction in (heading, *(way for way in STEPS if turns(heading, way))):
            dx, dy = STEPS[direction]
            nx, ny = x + dx, y + dy
            if not free(grid, nx, ny):
                continue
            space = room(grid, nx, ny)
            safe = (nx, ny) not in danger
            if direction == heading and safe and space >= ROOM:
                return None
            hugging = sum(not free(grid, nx + ex, ny + ey) for ex, ey in STEPS.values())
            scored.append((space, safe, direction == heading, hugging, rng.random(), direction))
        if not scored:
            return None
        best = max(scored)[-1]
        return None if best == heading else {"dir": best}
