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

from typing import Any

from games.rules.base import Game, IllegalMove, Move, Result, State

SIZE = 10
FLEET = (5, 4, 3, 3, 2)
DIRECTIONS = {"right": (0, 1), "down": (1, 0)}
HIDDEN = "hidden"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _place(fleet: Any) -> list[list[list[int]]]:
    """Validate a fleet placement; returns each ship's cells."""
    usage = 'a fleet is {"fleet": [{"row", "col", "size", "dir": "right" | "down"}, ...]}'
    if not isinstance(fleet, list) or not all(isinstance(ship, dict) for ship in fleet):
        raise IllegalMove(usage)
    if sorted(ship.get("size") for ship in fleet if _is_int(ship.get("size"))) != sorted(FLEET) or len(fleet) != len(
        FLEET
    ):
        raise IllegalMove(f"the fleet is one ship of each size {', '.join(map(str, FLEET))}")
    ships, taken = [], set()
    for ship in fleet:
        if set(ship) != {"row", "col", "size", "dir"} or ship["dir"] not in DIRECTIONS:
            raise IllegalMove(usage)
        if not (_is_int(ship["row"]) and _is_int(ship["col"])):
            raise IllegalMove("row and col must be integers")
        d_row, d_col = DIRECTIONS[ship["dir"]]
        cells = [[ship["row"] + d_row * i, ship["col"] + d_col * i] for i in range(ship["size"])]
        if not all(0 <= row < SIZE and 0 <= col < SIZE for row, col in cells):
            raise IllegalMove(f"a ship of size {ship['size']} does not fit at {ship['row']},{ship['col']}")
        if taken & {tuple(cell) for cell in cells}:
            raise IllegalMove("ships may not overlap")
        taken |= {tuple(cell) for cell in cells}
        ships.append(cells)
    return ships


def _hits(state: State, shooter: int) -> set[tuple[int, int]]:
    return {(row, col) for row, col, hit in state["shots"][shooter] if hit}


def _sunk(state: State, defender: int) -> list[list[list[int]]]:
    fleet = state["fleets"][defender]
    if fleet is None:
        return []
    hits = _hits(state, 1 - defender)
    return [ship for ship in fleet if all(tuple(cell) in hits for cell in ship)]


class Battleship(Game):
    slug = "battleship"
    name = "Battleship"
    min_players = 2
    max_players = 2
    hidden_information = True

    def initial_state(self, seats: int, options: dict) -> State:
        return {"fleets": [None, None], "shots": [[], []]}

    def turn(self, state: State) -> list[int]:
        if self.result(state) is not None:
            return []
        unplaced = [seat for seat in (0, 1) if state["fleets"][seat] is None]
        if unplaced:
            return unplaced
        return [0] if len(state["shots"][0]) == len(state["shots"][1]) else [1]

    def apply_move(self, state: State, seat: int, move: Move) -> State:
        if seat not in self.turn(state):
            raise IllegalMove("it is not your turn")
        if not isinstance(move, dict) or len(move) != 1:
            raise IllegalMove('a battleship move is {"fleet": [...]} during setup, then {"shot": [row, col]}')
        if state["fleets"][seat] is None:
            if "fleet" not in move:
                raise IllegalMove("place your fleet first")
            fleets = list(state["fleets"])
            fleets[seat] = _place(move["fleet"])
            return {**state, "fleets": fleets}
        return self._shoot(state, seat, move.get("shot"))

    def _shoot(self, state: State, seat: int, shot: Any) -> State:
        if not (isinstance(shot, list) and len(shot) == 2 and all(_is_int(v) for v in shot)):
            raise IllegalMove('a shot is {"shot": [row, col]}')
        row, col = shot
        if not (0 <= row < SIZE and 0 <= col < SIZE):
            raise IllegalMove(f"row and col must be from 0 to {SIZE - 1}")
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

    def view(self, state: State, seat: int | None) -> State:
        over = self.result(state) is not None
        return {
            "fleets": [fleet if over or owner == seat else None for owner, fleet in enumerate(state["fleets"])],
            "ready": [fleet is not None for fleet in state["fleets"]],
            "shots": state["shots"],
            "sunk": [_sunk(state, defender) for defender in (0, 1)],
        }

    def view_move(self, state: State, move: Move, mover: int | None, viewer: int | None) -> Move | None:
        if "fleet" in move and viewer != mover and self.result(state) is None:
            return {"fleet": HIDDEN}
        return move
