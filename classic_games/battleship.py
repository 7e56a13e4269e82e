"""Battleship: hidden information and a simultaneous phase.

Setup: both seats move at once, each placing its whole fleet in secret with
``{"fleet": [{"row": 0, "col": 0, "size": 5, "dir": "right" | "down"}, ...]}``
(one ship of each size in ``FLEET``, on a 10 by 10 grid, no overlaps).
Battle: seat 0 shoots first, then seats alternate, ``{"shot": [row, col]}``;
a hit does not give another shot. Sinking the whole enemy fleet wins.

Nobody but its owner sees a fleet until the game is over: not in views, not
in the placement move itself. Shots, hits and sunk ships are public.

State: ``{"fleets": [None | [[[row, col], ...] per ship]] per seat,
"shots": [[[row, col, hit], ...] per shooter]}``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from games.engine import Game, IllegalMove, MoveModel, Result, State

SIZE = 10
FLEET = (5, 4, 3, 3, 2)
DIRECTIONS = {"right": (0, 1), "down": (1, 0)}
HIDDEN = "hidden"
USAGE = 'a battleship move is {"fleet": [...]} during setup, then {"shot": [row, col]}'

Coordinate = Annotated[int, Field(ge=0, le=SIZE - 1)]
Ship = dict[str, Any]


class ShipPlacement(MoveModel):
    """One ship: its first cell, its size and which way it extends."""

    row: int
    col: int
    size: int
    dir: Literal["right", "down"]


class BattleshipMove(MoveModel):
    """Exactly one of ``fleet`` (setup) or ``shot`` (battle)."""

    fleet: list[ShipPlacement] | None = None
    shot: Annotated[list[Coordinate], Field(min_length=2, max_length=2)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        # Given, not merely non-null: {"fleet": null, "shot": [...]} is
        # refused, as a move naming a fleet is hidden from the other seat.
        if len(self.model_fields_set) != 1 or (self.fleet is None and self.shot is None):
            raise PydanticCustomError("battleship_move", USAGE)
        return self


def _cells(ship: ShipPlacement | Ship) -> list[list[int]]:
    if isinstance(ship, ShipPlacement):
        row, col, size, direction = ship.row, ship.col, ship.size, ship.dir
    else:
        row, col, size, direction = ship["row"], ship["col"], ship["size"], ship["dir"]
    d_row, d_col = DIRECTIONS[direction]
    return [[row + d_row * i, col + d_col * i] for i in range(size)]


def _place(fleet: list[ShipPlacement]) -> list[list[list[int]]]:
    """Check a well-formed fleet against the rules; returns each ship's cells."""
    if sorted(ship.size for ship in fleet) != sorted(FLEET):
        raise IllegalMove(f"the fleet is one ship of each size {', '.join(map(str, FLEET))}")
    ships: list[list[list[int]]] = []
    taken: set[tuple[int, int]] = set()
    for ship in fleet:
        cells = _cells(ship)
        if not all(0 <= row < SIZE and 0 <= col < SIZE for row, col in cells):
            raise IllegalMove(f"a ship of size {ship.size} does not fit at {ship.row},{ship.col}")
        occupied = {(row, col) for row, col in cells}
        if taken & occupied:
            raise IllegalMove("ships may not overlap")
        taken |= occupied
        ships.append(cells)
    return ships


def _placements(size: int) -> list[Ship]:
    """Every position of one ship of ``size`` on the grid, in a fixed order."""
    return [
        {"row": row, "col": col, "size": size, "dir": direction}
        for direction, (d_row, d_col) in DIRECTIONS.items()
        for row in range(SIZE - d_row * (size - 1))
        for col in range(SIZE - d_col * (size - 1))
    ]


PLACEMENTS = {size: _placements(size) for size in set(FLEET)}


def _fleets(sizes: tuple[int, ...], taken: frozenset[tuple[int, int]], lowest: int) -> Iterator[list[Ship]]:
    """Every placement of ships of ``sizes`` on the cells not ``taken``, each
    once: ships in ``FLEET``'s order, and of two ships of one size, the
    second always at a later position than the first (``lowest``)."""
    if not sizes:
        yield []
        return
    size, rest = sizes[0], sizes[1:]
    for index, ship in enumerate(PLACEMENTS[size]):
        if index < lowest:
            continue
        cells = frozenset((row, col) for row, col in _cells(ship))
        if cells & taken:
            continue
        following = index + 1 if rest and rest[0] == size else 0
        for others in _fleets(rest, taken | cells, following):
            yield [ship, *others]


def _hits(state: State, shooter: int) -> set[tuple[int, int]]:
    return {(row, col) for row, col, hit in state["shots"][shooter] if hit}


def _sunk(state: State, defender: int) -> list[list[list[int]]]:
    fleet = state["fleets"][defender]
    if fleet is None:
        return []
    hits = _hits(state, 1 - defender)
    return [ship for ship in fleet if all(tuple(cell) in hits for cell in ship)]


def _targets(state: State, seat: int) -> list[list[int]]:
    """The cells ``seat`` has not shot at yet, row by row."""
    shot = {(row, col) for row, col, _ in state["shots"][seat]}
    return [[row, col] for row in range(SIZE) for col in range(SIZE) if (row, col) not in shot]


class Battleship(Game[BattleshipMove]):
    slug = "battleship"
    name = "Battleship"
    min_players = 2
    max_players = 2
    Move = BattleshipMove
    board_script = "classic_games/battleship.js"

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        return {"fleets": [None, None], "shots": [[], []]}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        unplaced = [seat for seat in (0, 1) if state["fleets"][seat] is None]
        if unplaced:
            return unplaced
        return [0] if len(state["shots"][0]) == len(state["shots"][1]) else [1]

    def apply_move(self, state: State, seat: int, move: BattleshipMove) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        if state["fleets"][seat] is None:
            if move.fleet is None:
                raise IllegalMove("place your fleet first")
            fleets = list(state["fleets"])
            fleets[seat] = _place(move.fleet)
            return {**state, "fleets": fleets}
        if move.shot is None:
            raise IllegalMove('a shot is {"shot": [row, col]}')
        return self._shoot(state, seat, *move.shot)

    def _shoot(self, state: State, seat: int, row: int, col: int) -> State:
        if any(r == row and c == col for r, c, _ in state["shots"][seat]):
            raise IllegalMove(f"you already shot at {row},{col}")
        hit = any([row, col] in ship for ship in state["fleets"][1 - seat])
        shots = [list(s) for s in state["shots"]]
        shots[seat] = [*shots[seat], [row, col, hit]]
        return {**state, "shots": shots}

    def result(self, state: State) -> Result | None:
        for defender in (0, 1):
            if state["fleets"][defender] is not None and len(_sunk(state, defender)) == len(FLEET):
                return Result(winner=1 - defender, reason="fleet_sunk")
        return None

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        """During setup, every fleet placement (astronomically many: take
        what you need), each once with its ships in ``FLEET``'s order (the
        same placement listed in another order is legal too); then every
        cell not shot at yet, row by row."""
        if seat not in self.turn(state):
            return
        if state["fleets"][seat] is None:
            for fleet in _fleets(FLEET, frozenset(), 0):
                yield {"fleet": fleet}
            return
        for cell in _targets(state, seat):
            yield {"shot": cell}

    def random_move(self, state: State, seat: int, rng: random.Random) -> dict[str, Any] | None:
        """A fleet is built directly: every ship at a uniformly chosen
        position, again until none overlap, which makes every placement
        equally likely (about one try in three succeeds)."""
        if seat not in self.turn(state):
            return None
        if state["fleets"][seat] is not None:
            return {"shot": rng.choice(_targets(state, seat))}
        while True:
            fleet = [rng.choice(PLACEMENTS[size]) for size in FLEET]
            cells = [tuple(cell) for ship in fleet for cell in _cells(ship)]
            if len(set(cells)) == len(cells):
                return {"fleet": [dict(ship) for ship in fleet]}

    def view(self, state: State, seat: int | None) -> State:
        over = self.result(state) is not None
        return {
            "fleets": [fleet if over or owner == seat else None for owner, fleet in enumerate(state["fleets"])],
            "ready": [fleet is not None for fleet in state["fleets"]],
            "shots": state["shots"],
            "sunk": [_sunk(state, defender) for defender in (0, 1)],
        }

    def view_move(
        self, state: State, move: dict[str, Any], mover: int | None, viewer: int | None
    ) -> dict[str, Any] | None:
        if "fleet" in move and viewer != mover and self.result(state) is None:
            return {"fleet": HIDDEN}
        return move
