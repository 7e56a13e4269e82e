"""The four games the server ships with: tic-tac-toe, connect four, chess and
battleship. A Django app like any third-party game app: its ``game_rules``
module registers them (see ``games.engine.registry``)."""
