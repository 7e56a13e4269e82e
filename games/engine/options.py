"""Match options: the engine's own (clocks and timeouts), valid for every
game, plus whatever the game itself accepts."""

from __future__ import annotations

from typing import Any

from games.engine.game import InvalidOptions
from games.engine.registry import get_game

MAX_SECONDS = 24 * 3600
ENGINE_OPTIONS = ("clock", "move_timeout", "abandon_timeout", "rated")
DEFAULT_ABANDON_TIMEOUT = 60


def _seconds(options: dict[str, Any], key: str, minimum: int, where: str) -> int:
    value = options[key]
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_SECONDS:
        raise InvalidOptions(f"{where}{key} must be a whole number of seconds from {minimum} to {MAX_SECONDS}")
    return value


def validate_options(game_slug: str, options: Any) -> dict[str, Any]:
    """The options to store for a new match, or :class:`InvalidOptions`."""
    if not isinstance(options, dict):
        raise InvalidOptions("options must be an object")
    own = {key: options[key] for key in ENGINE_OPTIONS if key in options}
    rest = {key: value for key, value in options.items() if key not in own}
    game = get_game(game_slug)
    valid = dict(game.validate_options(rest))
    if game.tick_ms is not None and ({"clock", "move_timeout"} & set(own)):
        raise InvalidOptions("a real-time game has no clock and no move timeout: its ticks are the clock")
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
    if "rated" in own:
        if not isinstance(own["rated"], bool):
            raise InvalidOptions("rated must be true or false")
        valid["rated"] = own["rated"]
    return valid


def is_rated(options: dict[str, Any]) -> bool:
    """Whether a match with these options changes ratings (casual by default)."""
    return options.get("rated") is True
