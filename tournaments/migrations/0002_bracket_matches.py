"""Which matches decide a pairing moves from ``games.Match.pairing`` to this
app's ``BracketMatch``: create the table and copy every link before ``games``
0008 takes the field out of the model (``run_before``, so the games app's
migrations never name this app). The column itself stays for the previous
release's processes during a deploy (see ``tournaments.services``)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

BATCH = 1000


def copy_links(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    match = apps.get_model("games", "Match")
    bracket_match = apps.get_model("tournaments", "BracketMatch")
    db = schema_editor.connection.alias
    links = match.objects.using(db).filter(pairing__isnull=False).values_list("pk", "pairing_id").order_by("pk")
    bracket_match.objects.using(db).bulk_create(
        (bracket_match(match_id=match_id, pairing_id=pairing_id) for match_id, pairing_id in links.iterator()),
        batch_size=BATCH,
    )


def copy_links_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    match = apps.get_model("games", "Match")
    bracket_match = apps.get_model("tournaments", "BracketMatch")
    db = schema_editor.connection.alias
    for match_id, pairing_id in bracket_match.objects.using(db).values_list("match_id", "pairing_id").iterator():
        match.objects.using(db).filter(pk=match_id).update(pairing_id=pairing_id)


class Migration(migrations.Migration):
    dependencies = [
        ("games", "0007_event_checkpoints"),
        ("tournaments", "0001_initial"),
    ]

    run_before = [("games", "0008_tournaments_and_payments_moved_out")]

    operations = [
        migrations.CreateModel(
            name="BracketMatch",
            fields=[
                (
                    "match",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="bracket",
                        serialize=False,
                        to="games.match",
                    ),
                ),
                (
                    "pairing",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bracket_matches",
                        to="tournaments.pairing",
                    ),
                ),
            ],
            options={"ordering": ["pk"]},
        ),
        migrations.RunPython(copy_links, copy_links_back),
    ]
