"""Chess states gain ``anchor`` (the position after the last capture or pawn
move, and its ply), so a move no longer replays the whole game."""

import chess
from django.db import migrations


def add_anchor(apps, schema_editor):
    Match = apps.get_model("games", "Match")
    for match in Match.objects.filter(game="chess"):
        state = match.state
        if "anchor" in state:
            continue
        board = chess.Board(state["start"] or chess.STARTING_FEN)
        anchor = {"fen": board.fen(), "ply": 0}
        for ply, uci in enumerate(state["uci"], start=1):
            board.push_uci(uci)
            if board.halfmove_clock == 0:
                anchor = {"fen": board.fen(), "ply": ply}
        state["anchor"] = anchor
        match.state = state
        match.save(update_fields=["state"])


class Migration(migrations.Migration):
    dependencies = [("games", "0005_payment_event_raw_body_malformed")]

    operations = [migrations.RunPython(add_anchor, migrations.RunPython.noop)]
