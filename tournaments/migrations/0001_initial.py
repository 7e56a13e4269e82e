"""Tournament, Entry and Pairing move here from the games app, on the same
tables: this migration adds them to this app's state only (the tables,
their constraints and indexes are the ones ``games`` 0004 created), and
``games`` 0008 drops them from that app's state only.

The content types move with them, so staff permissions and admin history
follow the models.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MODELS = ("tournament", "entry", "pairing")


def move_content_types(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, source: str = "games", target: str = "tournaments"
) -> None:
    """Rename ``source``'s content types of the moved models to ``target``
    (unless ``target`` already has its own, made by an earlier
    ``post_migrate``: then the old ones stay, for ``remove_stale_contenttypes``)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not content_type.objects.using(db).filter(app_label=target, model=model).exists():
            content_type.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    move_content_types(apps, schema_editor, source="tournaments", target="games")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("games", "0007_event_checkpoints"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Tournament",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        ("game", models.CharField(max_length=32)),
                        ("options", models.JSONField(blank=True, default=dict)),
                        (
                            "entry_fee",
                            models.PositiveIntegerField(default=0, help_text="In minor units (cents); 0 is free."),
                        ),
                        ("currency", models.CharField(default="eur", max_length=3)),
                        ("capacity", models.PositiveIntegerField()),
                        ("starts_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("registration", "Registration"),
                                    ("running", "Running"),
                                    ("finished", "Finished"),
                                    ("cancelled", "Cancelled"),
                                ],
                                db_index=True,
                                default="registration",
                                max_length=16,
                            ),
                        ),
                        (
                            "seq",
                            models.PositiveIntegerField(
                                default=0, help_text="Version, raised by every change pushed to watchers."
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "winner",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="games.player",
                            ),
                        ),
                    ],
                    options={"db_table": "games_tournament", "ordering": ["-created_at"]},
                ),
                migrations.CreateModel(
                    name="Entry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending_payment", "Pending Payment"),
                                    ("confirmed", "Confirmed"),
                                    ("payment_mismatch", "Payment Mismatch"),
                                    ("refund_due", "Refund Due"),
                                    ("refunded", "Refunded"),
                                ],
                                db_index=True,
                                max_length=20,
                            ),
                        ),
                        ("client_reference_id", models.CharField(max_length=64, unique=True)),
                        ("payment_intent", models.CharField(blank=True, db_index=True, max_length=100, null=True)),
                        ("amount_paid", models.PositiveIntegerField(blank=True, null=True)),
                        ("currency_paid", models.CharField(blank=True, max_length=3)),
                        (
                            "note",
                            models.CharField(
                                blank=True, help_text="Why staff should look at this entry.", max_length=200
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "player",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="entries", to="games.player"
                            ),
                        ),
                        (
                            "tournament",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="entries",
                                to="tournaments.tournament",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "entries",
                        "db_table": "games_entry",
                        "ordering": ["created_at", "id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("tournament", "player"), name="one_entry_per_player")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Pairing",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("round", models.PositiveSmallIntegerField()),
                        ("slot", models.PositiveSmallIntegerField()),
                        (
                            "entry_a",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tournaments.entry",
                            ),
                        ),
                        (
                            "entry_b",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tournaments.entry",
                            ),
                        ),
                        (
                            "winner",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tournaments.entry",
                            ),
                        ),
                        (
                            "tournament",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="pairings",
                                to="tournaments.tournament",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "games_pairing",
                        "ordering": ["round", "slot"],
                        "constraints": [
                            models.UniqueConstraint(fields=("tournament", "round", "slot"), name="one_pairing_per_slot")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=True),
    ]
