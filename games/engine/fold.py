"""A match as a fold over its event log. Pure Python, no Django.

:func:`advance` is the only place that turns "match before" plus "one event"
into "match after": it validates the event (raising :class:`GameError`) and
applies it, clocks included. The live path calls it once per accepted event
and a replay folds it over the log, so the stored match always equals the
replay of its log by construction (and the tests check that it does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from games.engine.clocks import charge, parse_time
from games.engine.errors import ErrorCode, GameError
from games.engine.game import IllegalMove, Result
from games.engine.match import Event, EventKind, MatchData, PlayerEntry, Status, turn
from games.engine.realtime import RealtimeGame
from games.engine.registry import get_game


def initial(match_id: int, game_slug: str, seats: int, options: dict[str, Any]) -> MatchData:
    """The match before its first event."""
    clock = options.get("clock")
    return {
        "id": match_id,
        "game": game_slug,
        "status": Status.WAITING,
        "seq": 0,
        "seats": seats,
        "options": options,
        "players": [],
        "state": get_game(game_slug).initial_state(seats, options),
        "result": None,
        "clock": {"remaining": [clock["initial"] * 1000] * seats} if clock else None,
        "since": None,
        "turn_started": [None] * seats,
        "draw_offer": None,
        "rematch": {"seats": [], "match": None},
    }


def advance(data: MatchData, event: Event, player: PlayerEntry | None = None) -> MatchData:
    """The match after ``event``; ``player`` is the seated player of a join.

    Raises :class:`GameError` when the event is not allowed now.
    """
    at = parse_time(event["at"])
    after = _copy(data)
    after["seq"] = event["seq"]
    was_turn = turn(data)
    if data["status"] == Status.ACTIVE:
        charge(after, was_turn, at)
    handler = _HANDLERS.get(event["kind"])
    if handler is None:
        raise ValueError(f"unknown event kind {event['kind']!r}")
    handler(after, event, player)
    if after["status"] == Status.ACTIVE:
        after["since"] = event["at"]
        _start_turns(after, was_turn, event)
    else:
        after["since"] = None
        after["draw_offer"] = None
        after["turn_started"] = [None] * data["seats"]
    return after


def replay(
    start: MatchData, events: Iterable[Event], players_by_seat: dict[int, PlayerEntry]
) -> Iterator[tuple[Event, MatchData]]:
    """Yield each event with the match as it stood right after it."""
    data = start
    for event in events:
        data = advance(data, event, players_by_seat.get(event["seat"]) if event["kind"] == EventKind.JOIN else None)  # type: ignore[arg-type]
        yield event, data


def _copy(data: MatchData) -> MatchData:
    """A copy of ``data`` that the handlers may change: the parts they change
    in place are copied, the rest shared (rules never change the state they
    are given, they return a new one), so a step costs no more than the
    event, however long the match."""
    after = data.copy()
    after["players"] = list(data["players"])
    after["turn_started"] = list(data["turn_started"])
    after["rematch"] = {"seats": list(data["rematch"]["seats"]), "match": data["rematch"]["match"]}
    if data["clock"] is not None:
        after["clock"] = {"remaining": list(data["clock"]["remaining"])}
    return after


def _start_turns(data: MatchData, was_turn: list[int], event: Event) -> None:
    """A seat's turn starts when it comes into the turn, or moves and stays in it."""
    for seat in turn(data):
        if seat not in was_turn or (event["kind"] == EventKind.MOVE and event["seat"] == seat):
            data["turn_started"][seat] = event["at"]


def _finish(data: MatchData, result: Result) -> None:
    data["status"] = Status.FINISHED
    data["result"] = result.as_dict()


def _require_active(data: MatchData) -> None:
    if data["status"] != Status.ACTIVE:
        raise GameError(ErrorCode.MATCH_NOT_ACTIVE, f"the match is {data['status']}")


def _on_join(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    assert player is not None, "a join names its player"
    data["players"] = sorted([*data["players"], player], key=lambda p: p["seat"])
    data["status"] = Status.ACTIVE if len(data["players"]) == data["seats"] else Status.WAITING


def _on_move(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    _require_active(data)
    seat, game = event["seat"], get_game(data["game"])
    if seat is None or seat not in game.turn(data["state"]):
        raise GameError(ErrorCode.NOT_YOUR_TURN, "it is not your turn")
    try:
        parsed = game.parse_move(event["move"])
        data["state"] = game.apply_move(data["state"], seat, parsed)
    except IllegalMove as refusal:
        raise GameError(ErrorCode.ILLEGAL_MOVE, refusal.reason) from None
    if data["clock"] is not None:
        data["clock"]["remaining"][seat] += data["options"]["clock"]["increment"] * 1000
    if data["draw_offer"] is not None and data["draw_offer"] != seat:
        data["draw_offer"] = None  # moving is declining the opponent's offer
    result = game.result(data["state"])
    if result is not None:
        _finish(data, result)


def _other_seats_win(data: MatchData, losers: list[int], reason: str) -> Result:
    others = [p["seat"] for p in data["players"] if p["seat"] not in losers]
    return Result(winner=others[0] if len(others) == 1 else None, reason=reason)


def _acting_seat(event: Event) -> int:
    seat = event["seat"]
    assert seat is not None, f"a {event['kind']} comes from a seat"
    return seat


def _on_resign(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    _require_active(data)
    _finish(data, _other_seats_win(data, [_acting_seat(event)], "resign"))


def _on_offer_draw(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    _require_active(data)
    if not get_game(data["game"]).allows_draw_offers:
        raise GameError(ErrorCode.DRAW_NOT_ALLOWED, f"{data['game']} has no draw offers")
    offer = data["draw_offer"]
    if offer == event["seat"]:
        raise GameError(ErrorCode.DRAW_NOT_ALLOWED, "you have already offered a draw")
    if offer is not None:  # both sides want a draw
        _finish(data, Result(winner=None, reason="agreement"))
    else:
        data["draw_offer"] = _acting_seat(event)


def _on_accept_draw(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    _require_active(data)
    if data["draw_offer"] is None or data["draw_offer"] == event["seat"]:
        raise GameError(ErrorCode.NO_DRAW_OFFER, "there is no draw offer from your opponent to accept")
    _finish(data, Result(winner=None, reason="agreement"))


def _on_rematch(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    seat = _acting_seat(event)
    if data["status"] != Status.FINISHED:
        raise GameError(ErrorCode.MATCH_NOT_ACTIVE, "a rematch can be asked for once the match has finished")
    if seat in data["rematch"]["seats"]:
        raise GameError(ErrorCode.REMATCH_REQUESTED, "you have already asked for a rematch")
    data["rematch"]["seats"] = sorted([*data["rematch"]["seats"], seat])
    if event["move"] and "match" in event["move"]:
        data["rematch"]["match"] = event["move"]["match"]


def _on_timeout(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    flagged = event["move"]["seats"]
    if data["clock"] is not None:
        for seat in flagged:
            data["clock"]["remaining"][seat] = max(0, data["clock"]["remaining"][seat])
    _finish(data, get_game(data["game"]).timeout_result(data["state"], flagged, data["seats"]))


def _on_abandon(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    _finish(data, _other_seats_win(data, event["move"]["seats"], "abandoned"))


def _on_ticks(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    """A real-time match's ticks up to ``move["tick"]``: the ones before it
    without inputs, that one with the inputs logged (each parsed again, so a
    replay checks them as the live path did)."""
    _require_active(data)
    game = get_game(data["game"])
    if not isinstance(game, RealtimeGame):
        raise GameError(ErrorCode.ILLEGAL_MOVE, f"{data['game']} is not a real-time game")
    target, current = event["move"]["tick"], data["state"]["tick"]
    if not isinstance(target, int) or isinstance(target, bool) or target <= current:
        raise GameError(ErrorCode.ILLEGAL_MOVE, f"tick {target} does not come after tick {current}")
    state = data["state"]
    for tick in range(current + 1, target):
        state = game.apply_tick(state, tick, {})
        if game.tick_result(state) is not None:
            raise GameError(ErrorCode.ILLEGAL_MOVE, f"the match ended at tick {tick}, before tick {target}")
    inputs: dict[int, list[Any]] = {}
    try:
        for seat, sent in event["move"]["inputs"]:
            if seat not in range(data["seats"]):
                raise IllegalMove(f"no seat {seat}")
            inputs.setdefault(seat, []).append(game.parse_move(sent))
    except IllegalMove as refusal:
        raise GameError(ErrorCode.ILLEGAL_MOVE, refusal.reason) from None
    data["state"] = game.apply_tick(state, target, inputs)
    result = game.tick_result(data["state"])
    if result is not None:
        _finish(data, result)


def _on_abort(data: MatchData, event: Event, player: PlayerEntry | None) -> None:
    """Staff stop a match that has not ended: no result, nobody wins."""
    if Status(data["status"]).over:
        raise GameError(ErrorCode.MATCH_NOT_ACTIVE, f"the match is {data['status']}")
    data["status"] = Status.ABORTED


_HANDLERS: dict[str, Callable[[MatchData, Event, PlayerEntry | None], None]] = {
    EventKind.JOIN: _on_join,
    EventKind.MOVE: _on_move,
    EventKind.RESIGN: _on_resign,
    EventKind.OFFER_DRAW: _on_offer_draw,
    EventKind.ACCEPT_DRAW: _on_accept_draw,
    EventKind.REMATCH: _on_rematch,
    EventKind.TIMEOUT: _on_timeout,
    EventKind.ABANDON: _on_abandon,
    EventKind.ABORT: _on_abort,
    EventKind.TICKS: _on_ticks,
}
