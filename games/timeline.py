"""A match as a fold over its event log. Pure Python, no Django.

``advance`` is the only place that turns "match before" plus "one event" into
"match after": it validates the event (raising :class:`GameError`) and applies
it, clocks included. The live path calls it once per accepted event and the
replay folds it over the whole log, so the stored match always equals the
replay of its log by construction (and the tests check that it does).

Time comes only from the events' server timestamps (``at``), never from a
client, so a replay charges the clocks exactly as the live match did.

A *match data* dict is the server-side, unfiltered match::

    {"id", "game", "status", "seq", "seats", "options",
     "players": [{"seat", "id", "name", "connected", "left_at"}],
     "state", "result",
     "clock": None | {"remaining": [ms per seat]},
     "since": iso | None,          # last time the running clocks were charged
     "turn_started": [iso | None],  # per seat, when its current turn began
     "draw_offer": seat | None,
     "rematch": {"seats": [...], "match": id | None}}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from games.errors import GameError
from games.rules import IllegalMove, InvalidOptions, Result, get_game

WAITING, ACTIVE, FINISHED, ABORTED = "waiting", "active", "finished", "aborted"
DEFAULT_ABANDON_TIMEOUT = 60
MAX_SECONDS = 24 * 3600

MatchData = dict[str, Any]
Event = dict[str, Any]

# Event kinds a player may send; "join", "timeout", "abandon" and "abort" come from the server.
PLAYER_ACTIONS = ("move", "resign", "offer_draw", "accept_draw", "rematch")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def format_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- options ---------------------------------------------------------------


def _seconds(options: dict[str, Any], key: str, minimum: int, where: str) -> int:
    value = options[key]
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_SECONDS:
        raise InvalidOptions(f"{where}{key} must be a whole number of seconds from {minimum} to {MAX_SECONDS}")
    return value


def validate_options(game_slug: str, options: dict[str, Any]) -> dict[str, Any]:
    """The engine's options (``clock``, ``move_timeout``, ``abandon_timeout``),
    valid for every game, plus whatever the game itself accepts."""
    if not isinstance(options, dict):
        raise InvalidOptions("options must be an object")
    own = {key: options[key] for key in ("clock", "move_timeout", "abandon_timeout") if key in options}
    rest = {key: value for key, value in options.items() if key not in own}
    valid = dict(get_game(game_slug).validate_options(rest))
    if "clock" in own:
        clock = own["clock"]
        if not isinstance(clock, dict) or set(clock) - {"initial", "increment"} or "initial" not in clock:
            raise InvalidOptions('clock is {"initial": seconds, "increment": seconds}')
        valid["clock"] = {
            "initial": _seconds(clock, "initial", 1, "clock."),
            "increment": _seconds(clock, "increment", 0, "clock.") if "increment" in clock else 0,
        }
    for key in ("move_timeout", "abandon_timeout"):
        if key in own:
            valid[key] = _seconds(own, key, 1, "")
    return valid


# --- the fold --------------------------------------------------------------


def initial(match_id: int, game_slug: str, seats: int, options: dict[str, Any]) -> MatchData:
    clock = options.get("clock")
    return {
        "id": match_id,
        "game": game_slug,
        "status": WAITING,
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


def advance(data: MatchData, event: Event, player: dict[str, Any] | None = None) -> MatchData:
    """The match after ``event``; ``player`` is the seated player of a join.

    Raises :class:`GameError` when the event is not allowed now.
    """
    at = parse_time(event["at"])
    after = _copy(data)
    after["seq"] = event["seq"]
    was_turn = turn(data)
    if data["status"] == ACTIVE:
        _charge_clocks(after, was_turn, at)
    handler = _HANDLERS.get(event["kind"])
    if handler is None:
        raise ValueError(f"unknown event kind {event['kind']!r}")
    handler(after, event, player)
    if after["status"] == ACTIVE:
        after["since"] = event["at"]
        _start_turns(after, was_turn, event, at)
    else:
        after["since"] = None
        after["draw_offer"] = None
        after["turn_started"] = [None] * data["seats"]
    return after


def _copy(data: MatchData) -> MatchData:
    """A copy of ``data`` that the handlers may change: the parts they change
    in place are copied, the rest shared (rules never change the state they
    are given, they return a new one), so a step costs no more than the
    event, however long the match."""
    after = dict(data)
    after["players"] = list(data["players"])
    after["turn_started"] = list(data["turn_started"])
    after["rematch"] = {**data["rematch"], "seats": list(data["rematch"]["seats"])}
    if data["clock"] is not None:
        after["clock"] = {**data["clock"], "remaining": list(data["clock"]["remaining"])}
    return after


def _charge_clocks(data: MatchData, running: list[int], at: datetime) -> None:
    if data["clock"] is None or data["since"] is None:
        return
    # Never negative: an event stamped before the last one (clocks of two
    # processes, or a replay of such a log) must not credit anyone time.
    elapsed = max(0, round((at - parse_time(data["since"])).total_seconds() * 1000))
    for seat in running:
        data["clock"]["remaining"][seat] -= elapsed


def _start_turns(data: MatchData, was_turn: list[int], event: Event, at: datetime) -> None:
    """A seat's turn starts when it comes into the turn, or moves and stays in it."""
    for seat in turn(data):
        if seat not in was_turn or (event["kind"] == "move" and event["seat"] == seat):
            data["turn_started"][seat] = event["at"]


def _finish(data: MatchData, result: Result) -> None:
    data["status"] = FINISHED
    data["result"] = result.as_dict()


def _require_active(data: MatchData) -> None:
    if data["status"] != ACTIVE:
        raise GameError("match_not_active", f"the match is {data['status']}")


def _on_join(data: MatchData, event: Event, player: dict[str, Any] | None) -> None:
    data["players"] = sorted([*data["players"], player], key=lambda p: p["seat"])
    data["status"] = ACTIVE if len(data["players"]) == data["seats"] else WAITING


def _on_move(data: MatchData, event: Event, player: Any) -> None:
    _require_active(data)
    seat, game = event["seat"], get_game(data["game"])
    if seat not in game.turn(data["state"]):
        raise GameError("not_your_turn", "it is not your turn")
    try:
        data["state"] = game.apply_move(data["state"], seat, event["move"])
    except IllegalMove as refusal:
        raise GameError("illegal_move", refusal.reason) from None
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


def _on_resign(data: MatchData, event: Event, player: Any) -> None:
    _require_active(data)
    _finish(data, _other_seats_win(data, [event["seat"]], "resign"))


def _on_offer_draw(data: MatchData, event: Event, player: Any) -> None:
    _require_active(data)
    if not get_game(data["game"]).allows_draw_offers:
        raise GameError("draw_not_allowed", f"{data['game']} has no draw offers")
    offer = data["draw_offer"]
    if offer == event["seat"]:
        raise GameError("draw_not_allowed", "you have already offered a draw")
    if offer is not None:  # both sides want a draw
        _finish(data, Result(winner=None, reason="agreement"))
    else:
        data["draw_offer"] = event["seat"]


def _on_accept_draw(data: MatchData, event: Event, player: Any) -> None:
    _require_active(data)
    if data["draw_offer"] is None or data["draw_offer"] == event["seat"]:
        raise GameError("no_draw_offer", "there is no draw offer from your opponent to accept")
    _finish(data, Result(winner=None, reason="agreement"))


def _on_rematch(data: MatchData, event: Event, player: Any) -> None:
    if data["status"] != FINISHED:
        raise GameError("match_not_active", "a rematch can be asked for once the match has finished")
    if event["seat"] in data["rematch"]["seats"]:
        raise GameError("rematch_requested", "you have already asked for a rematch")
    data["rematch"]["seats"] = sorted([*data["rematch"]["seats"], event["seat"]])
    if event["move"] and "match" in event["move"]:
        data["rematch"]["match"] = event["move"]["match"]


def _on_timeout(data: MatchData, event: Event, player: Any) -> None:
    flagged = event["move"]["seats"]
    if data["clock"] is not None:
        for seat in flagged:
            data["clock"]["remaining"][seat] = max(0, data["clock"]["remaining"][seat])
    _finish(data, get_game(data["game"]).timeout_result(data["state"], flagged, data["seats"]))


def _on_abandon(data: MatchData, event: Event, player: Any) -> None:
    _finish(data, _other_seats_win(data, event["move"]["seats"], "abandoned"))


def _on_abort(data: MatchData, event: Event, player: Any) -> None:
    """Staff stop a match that has not ended: no result, nobody wins."""
    if data["status"] not in (WAITING, ACTIVE):
        raise GameError("match_not_active", f"the match is {data['status']}")
    data["status"] = ABORTED


_HANDLERS = {
    "join": _on_join,
    "move": _on_move,
    "resign": _on_resign,
    "offer_draw": _on_offer_draw,
    "accept_draw": _on_accept_draw,
    "rematch": _on_rematch,
    "timeout": _on_timeout,
    "abandon": _on_abandon,
    "abort": _on_abort,
}


def replay(
    initial_data: MatchData, events: Iterable[Event], players_by_seat: dict[int, dict[str, Any]]
) -> Iterator[tuple[Event, MatchData]]:
    """Yield each event with the match as it stood right after it."""
    data = initial_data
    for event in events:
        data = advance(data, event, players_by_seat.get(event["seat"]) if event["kind"] == "join" else None)
        yield event, data


# --- reading ---------------------------------------------------------------


def turn(data: MatchData) -> list[int]:
    if data["status"] != ACTIVE:
        return []
    return get_game(data["game"]).turn(data["state"])


def seat_of(data: MatchData, player_id: int | None) -> int | None:
    for player in data["players"]:
        if player["id"] == player_id:
            return player["seat"]
    return None


def remaining_ms(data: MatchData, now: datetime) -> list[int] | None:
    """Each seat's clock as of ``now`` (running clocks charged up to it)."""
    if data["clock"] is None:
        return None
    remaining = list(data["clock"]["remaining"])
    if data["since"] is not None:
        elapsed = round((now - parse_time(data["since"])).total_seconds() * 1000)
        for seat in turn(data):
            remaining[seat] -= elapsed
    return [max(0, ms) for ms in remaining]


def deadlines(data: MatchData) -> list[tuple[datetime, str, int]]:
    """Every moment the server must act unless someone moves first, as
    ``(when, kind, seat)`` with kind ``timeout`` or ``abandon``."""
    if data["status"] != ACTIVE:
        return []
    options = data["options"]
    found = []
    for seat in turn(data):
        started = data["turn_started"][seat]
        if data["clock"] is not None and data["since"] is not None:
            found.append((parse_time(data["since"]) + _ms(data["clock"]["remaining"][seat]), "timeout", seat))
        if "move_timeout" in options and started is not None:
            found.append((parse_time(started) + timedelta(seconds=options["move_timeout"]), "timeout", seat))
        player = next((p for p in data["players"] if p["seat"] == seat), None)
        if player is not None and not player["connected"] and player.get("left_at") and started is not None:
            away_since = max(parse_time(player["left_at"]), parse_time(started))
            abandon_after = options.get("abandon_timeout", DEFAULT_ABANDON_TIMEOUT)
            found.append((away_since + timedelta(seconds=abandon_after), "abandon", seat))
    return sorted(found)


def _ms(milliseconds: int) -> timedelta:
    return timedelta(milliseconds=milliseconds)


def next_deadline(data: MatchData) -> datetime | None:
    found = deadlines(data)
    return found[0][0] if found else None


def overdue(data: MatchData, now: datetime) -> tuple[str, list[int]] | None:
    """The event the server owes the match at ``now``: the earliest deadline
    that has passed, with every seat whose deadline of that kind fell at that
    same instant (only those: a seat whose time ran out later did not run out
    first, however late the clock loop looks)."""
    found = deadlines(data)
    if not found or found[0][0] > now:
        return None
    first, kind = found[0][0], found[0][1]
    return kind, sorted({seat for when, k, seat in found if when == first and k == kind})
