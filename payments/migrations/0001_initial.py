"""PaymentEvent moves here from the games app, on the same table: this
migration adds it to this app's state only (the table, its partial unique
constraint and indexes are the ones ``games`` 0004 and 0005 made), and
``games`` 0008 drops it from that app's state only. Its content type moves
with it, so staff permissions and admin history follow the model."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def move_content_type(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, source: str = "games", target: str = "payments"
) -> None:
    """Rename ``source``'s content type of the model to ``target`` (unless
    ``target`` already has one, made by an earlier ``post_migrate``)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label=target, model="paymentevent").exists():
        content_type.objects.using(db).filter(app_label=source, model="paymentevent").update(app_label=target)


def move_content_type_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    move_content_type(apps, schema_editor, source="payments", target="games")


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
                    name="PaymentEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("provider", models.CharField(max_length=40)),
                        ("event_id", models.CharField(blank=True, max_length=200)),
                        ("type", models.CharField(blank=True, max_length=100)),
                        ("body", models.TextField()),
                        ("raw_body", models.BinaryField(default=b"", help_text="The exact bytes received.")),
                        ("headers", models.JSONField(default=dict)),
                        ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("signature_valid", models.BooleanField()),
                        ("duplicate", models.BooleanField(default=False)),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("received", "Received"),
                                    ("processed", "Processed"),
                                    ("ignored", "Ignored"),
                                    ("flagged", "Flagged"),
                                    ("duplicate", "Duplicate"),
                                    ("invalid_signature", "Invalid Signature"),
                                    ("failed", "Failed"),
                                    ("malformed", "Malformed"),
                                ],
                                db_index=True,
                                default="received",
                                max_length=20,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "games_paymentevent",
                        "ordering": ["-received_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("duplicate", False), ("signature_valid", True)),
                                fields=("provider", "event_id"),
                                name="one_canonical_delivery_per_event",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
