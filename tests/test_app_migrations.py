"""Tournaments and payments left the games app for apps of their own without
touching their data: starting from the schema before the move (games 0007,
no tournaments or payments app), rows written then are all there after
``migrate``, on the same tables with the same constraints and indexes, and
each bracket match is still linked to its pairing (now through
``tournaments.BracketMatch``, as the games app no longer names tournaments)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from games.models import Match
from payments.models import PaymentEvent
from tournaments.models import BracketMatch, Entry, Pairing, Tournament

# A transactional test (migrations cannot run inside the test's transaction),
# and its matches are written by hand, without a log.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.tampers_with_the_log]

BEFORE = ("games", "0007_event_checkpoints")
MOVED_TABLES = ("games_tournament", "games_entry", "games_pairing", "games_paymentevent")


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def migrate_to_the_end() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def constraints(table: str) -> dict[str, Any]:
    """Every constraint and index of ``table`` as the database reports it."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: {key: value for key, value in details.items() if key != "definition"} for name, details in found.items()
    }


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


@pytest.fixture
def old_apps() -> Any:
    """The models as they were before the move (games 0007); the database
    is migrated back to the end afterwards, whatever the test did."""
    executor = migrate([BEFORE, ("tournaments", None), ("payments", None)])
    django_apps = [node for node in executor.loader.graph.leaf_nodes() if node[0] in ("auth", "contenttypes")]
    try:
        yield executor.loader.project_state([BEFORE, *django_apps], at_end=True).apps
    finally:
        migrate_to_the_end()
        ContentType.objects.clear_cache()


def write_old_rows(apps: Apps) -> dict[str, Any]:
    """A running tournament of four with a paid entry, a finished semi-final
    (a draw and its tiebreak), one in play, the final waiting, a match of no
    tournament, and two payment deliveries: the old way, ``Match.pairing``."""
    user, player_model = apps.get_model("auth", "User"), apps.get_model("games", "Player")
    players = [player_model.objects.create(user=user.objects.create(username=name), name=name) for name in "abcd"]
    tournament_model = apps.get_model("games", "Tournament")
    cup = tournament_model.objects.create(name="Old cup", game="tictactoe", entry_fee=500, capacity=4, status="running")
    entry_model = apps.get_model("games", "Entry")
    entries = [
        entry_model.objects.create(
            tournament=cup, player=player, status="confirmed", client_reference_id=f"entry_{player.name}",
            payment_intent=f"pi_{player.name}", amount_paid=500, currency_paid="eur",
        )
        for player in players
    ]  # fmt: skip
    pairing_model = apps.get_model("games", "Pairing")
    first = pairing_model.objects.create(tournament=cup, round=1, slot=0, entry_a=entries[0], entry_b=entries[3])
    second = pairing_model.objects.create(tournament=cup, round=1, slot=1, entry_a=entries[1], entry_b=entries[2])
    final = pairing_model.objects.create(tournament=cup, round=2, slot=0, entry_a=entries[0])
    first.winner = entries[0]
    first.save()
    match_model = apps.get_model("games", "Match")

    def match(pairing: Any, status: str) -> int:
        row = match_model.objects.create(game="tictactoe", status=status, seat_count=2, state={}, pairing=pairing)
        return row.pk

    links = {match(first, "finished"): first.pk, match(first, "finished"): first.pk, match(second, "active"): second.pk}
    casual = match(None, "waiting")
    event_model = apps.get_model("games", "PaymentEvent")
    for number, outcome in enumerate(["processed", "duplicate"]):
        event_model.objects.create(
            provider="stripe", event_id="evt_1", type="checkout.session.completed", body="{}", raw_body=b"{}",
            signature_valid=True, duplicate=outcome == "duplicate", outcome=outcome, headers={"n": number},
        )  # fmt: skip
    return {"cup": cup.pk, "entries": [e.pk for e in entries], "final": final.pk, "links": links, "casual": casual}


def test_tournaments_entries_pairings_their_matches_and_payment_events_survive_the_move(old_apps: Apps) -> None:
    old = write_old_rows(old_apps)
    before = {table: constraints(table) for table in MOVED_TABLES}
    assert "pairing_id" in columns("games_match")

    migrate_to_the_end()

    cup = Tournament.objects.get(pk=old["cup"])
    assert (cup.name, cup.status, cup.entry_fee, cup.capacity) == ("Old cup", "running", 500, 4)
    entries = list(Entry.objects.filter(tournament=cup).order_by("pk"))
    assert [e.pk for e in entries] == old["entries"]
    assert [(e.player.name, e.status, e.payment_intent, e.amount_paid) for e in entries] == [
        (name, "confirmed", f"pi_{name}", 500) for name in "abcd"
    ]
    pairings = {(p.round, p.slot): p for p in Pairing.objects.filter(tournament=cup)}
    assert set(pairings) == {(1, 0), (1, 1), (2, 0)}
    assert pairings[(1, 0)].winner_id == old["entries"][0] and pairings[(2, 0)].pk == old["final"]
    assert dict(BracketMatch.objects.values_list("match_id", "pairing_id")) == old["links"]
    assert list(pairings[(1, 0)].bracket_matches.values_list("match_id", flat=True)) == sorted(
        match for match, pairing in old["links"].items() if pairing == pairings[(1, 0)].pk
    )
    assert Match.objects.count() == 4 and not BracketMatch.objects.filter(match_id=old["casual"]).exists()
    delivered = PaymentEvent.objects.order_by("pk")
    assert [(e.event_id, e.outcome, e.duplicate, e.raw) for e in delivered] == [
        ("evt_1", "processed", False, b"{}"),
        ("evt_1", "duplicate", True, b"{}"),
    ]

    assert {table: constraints(table) for table in MOVED_TABLES} == before
    # The old column stays for the previous release's processes (they select
    # it while the deploy migrates), but no model reads or writes it now.
    assert "pairing_id" in columns("games_match")
    assert "pairing" not in {field.name for field in Match._meta.get_fields()}
    assert "tournaments_bracketmatch" in connection.introspection.table_names()


def test_the_move_can_be_undone_with_the_links_back_on_the_matches(old_apps: Apps) -> None:
    old = write_old_rows(old_apps)
    migrate_to_the_end()
    executor = migrate([BEFORE, ("tournaments", None), ("payments", None)])

    match_model = executor.loader.project_state([BEFORE], at_end=True).apps.get_model("games", "Match")
    linked = dict(match_model.objects.filter(pairing__isnull=False).values_list("pk", "pairing_id"))
    assert linked == old["links"]
    assert "tournaments_bracketmatch" not in connection.introspection.table_names()


def test_content_types_move_with_the_models(old_apps: Apps) -> None:
    """Staff permissions (and admin history) on the moved models follow them."""
    moved = {"tournament": "tournaments", "entry": "tournaments", "pairing": "tournaments", "paymentevent": "payments"}
    content_types = old_apps.get_model("contenttypes", "ContentType")
    permission = old_apps.get_model("auth", "Permission")
    content_types.objects.filter(app_label__in=["tournaments", "payments"]).delete()
    kept = {}
    for model in moved:
        content_type, _ = content_types.objects.get_or_create(app_label="games", model=model)
        kept[model] = permission.objects.get_or_create(
            content_type=content_type, codename=f"change_{model}", defaults={"name": f"Can change {model}"}
        )[0].pk

    migrate_to_the_end()
    ContentType.objects.clear_cache()

    for model, app in moved.items():
        assert ContentType.objects.get(app_label=app, model=model).permission_set.filter(pk=kept[model]).exists()
        assert not ContentType.objects.filter(app_label="games", model=model).exists()
