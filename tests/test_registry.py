"""The registry refuses a game that does not meet the contract when it is
registered (at startup), not at its first move; ``hidden_information`` is
derived from what a game overrides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from games.engine import Game, MoveModel, Result, State, all_games, get_game, register, registry
from games.engine.registry import InvalidGame


class PassMove(MoveModel):
    token: int


class Complete(Game[PassMove]):
    """A game meeting the contract: the base the bad games below break."""

    slug = "test-complete"
    name = "Complete"
    min_players = 1
    max_players = 1
    Move = PassMove

    def initial_state(self, seats: int, options: dict[str, Any]) -> State:
        return {}

    def turn(self, state: State) -> list[int]:
        return []

    def apply_move(self, state: State, seat: int, move: PassMove) -> State:
        return state

    def result(self, state: State) -> Result | None:
        return Result(winner=None, reason="over")

    def legal_moves(self, state: State, seat: int) -> Iterator[dict[str, Any]]:
        yield from ()


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into a copy: the games it adds never reach the
    other tests (which iterate the registry)."""
    monkeypatch.setattr(registry, "_games", dict(registry._games))


def test_a_complete_game_registers_and_is_found() -> None:
    assert register(Complete) is Complete
    assert isinstance(get_game("test-complete"), Complete)
    assert get_game("test-complete") in all_games()
    register(Complete)  # again (a module reloaded): harmless
    assert [game.slug for game in all_games()].count("test-complete") == 1


def test_a_game_without_a_move_model_is_refused() -> None:
    body = {key: value for key, value in vars(Complete).items() if key not in ("Move", "__dict__", "__weakref__")}
    with pytest.raises(InvalidGame, match="has no Move"):
        register(type("NoMove", (Game,), body))


def test_a_move_that_is_not_a_move_model_is_refused() -> None:
    class DictMove(Complete):
        Move = dict  # type: ignore[assignment]

    with pytest.raises(InvalidGame, match="MoveModel"):
        register(DictMove)


@pytest.mark.parametrize("slug", ["", "Chess", "9lives", "with space", "x" * 33, "a/b"])
def test_a_bad_slug_is_refused(slug: str) -> None:
    bad = type("BadSlug", (Complete,), {"slug": slug})
    with pytest.raises(InvalidGame, match="slug"):
        register(bad)


def test_a_taken_slug_is_refused() -> None:
    taken = all_games()[0].slug
    impostor = type("Impostor", (Complete,), {"slug": taken})
    with pytest.raises(InvalidGame, match="two games"):
        register(impostor)
    assert not isinstance(get_game(taken), impostor)


def test_a_taken_slug_is_refused_even_with_the_same_class_name() -> None:
    """Two apps may both name their class ``Reversi``: still two games."""
    original = type(all_games()[0])
    namesake = type(original.__name__, (Complete,), {"slug": original.slug, "__qualname__": original.__qualname__})
    with pytest.raises(InvalidGame, match="two games"):
        register(namesake)


def test_a_game_without_legal_moves_is_refused() -> None:
    class NoLegalMoves(Complete):
        pass

    NoLegalMoves.legal_moves = Game.legal_moves  # type: ignore[method-assign]
    with pytest.raises(InvalidGame, match="does not implement legal_moves"):
        register(NoLegalMoves)


class Unschemable:
    """A value pydantic accepts as a field type but cannot describe in JSON Schema."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)


def test_a_game_whose_move_has_no_json_schema_is_refused_so_it_cannot_empty_the_games_list() -> None:
    class OpaqueMove(MoveModel):
        thing: Unschemable

    class Opaque(Complete):
        slug = "test-opaque"
        Move = OpaqueMove

    with pytest.raises(InvalidGame, match="JSON Schema"):
        register(Opaque)
    assert "test-opaque" not in [game.slug for game in all_games()]


def test_a_game_asking_for_ticks_is_refused_while_no_tick_loop_runs() -> None:
    ticking = type("Ticking", (Complete,), {"slug": "test-ticking", "tick_ms": 100})
    with pytest.raises(InvalidGame, match="tick_ms"):
        register(ticking)


@pytest.mark.parametrize("players", [(0, 2), (3, 2)])
def test_bad_player_counts_are_refused(players: tuple[int, int]) -> None:
    bad = type("BadPlayers", (Complete,), {"min_players": players[0], "max_players": players[1]})
    with pytest.raises(InvalidGame, match="min_players"):
        register(bad)


def test_hidden_information_is_derived_from_the_views() -> None:
    class Public(Complete):
        pass

    class SecretState(Complete):
        def view(self, state: State, seat: int | None) -> State:
            return {}

    class SecretMoves(Complete):
        def view_move(self, state: State, move: dict, mover: int | None, viewer: int | None) -> dict | None:
            return None

    assert not Public().hidden_information
    assert SecretState().hidden_information and SecretMoves().hidden_information
    assert Public().describe()["hidden_information"] is False
    assert SecretState().describe()["hidden_information"] is True


@pytest.mark.django_db
def test_a_games_app_installed_at_run_time_joins_and_nothing_registers_twice() -> None:
    """Changing the installed apps runs every app's ready() again (as tests
    of a game's own app do with override_settings): the new app's games join,
    and the apps already there (the tournaments router, the built-in games)
    are not added a second time."""
    client = Client()
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.nim_app"]):
        assert "nim" in [game["slug"] for game in client.get("/api/games").json()["games"]]
        assert client.get("/api/tournaments").status_code == 200
    slugs = [game["slug"] for game in client.get("/api/games").json()["games"]]
    assert len(slugs) == len(set(slugs))
    assert client.get("/api/tournaments").status_code == 200
