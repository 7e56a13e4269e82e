# Tournament, Entry, Pairing and PaymentEvent now belong to the tournaments
# and payments apps, on the same tables: they leave this app's state only
# (their tables, constraints and indexes stay as they are). The link from a
# match to its bracket slot moved to tournaments.BracketMatch, whose
# migration copies it before this one runs. The games_match.pairing_id column
# leaves the state only: processes of the previous release, still serving
# while a deploy's release phase migrates, select it in every query on
# matches. A later release drops it, once no process reads it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("games", "0007_event_checkpoints"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="match",
                    name="pairing",
                ),
                migrations.DeleteModel(name="Pairing"),
                migrations.DeleteModel(name="Entry"),
                migrations.DeleteModel(name="Tournament"),
                migrations.DeleteModel(name="PaymentEvent"),
            ],
            database_operations=[],
        ),
    ]
