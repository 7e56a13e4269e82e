"""Reversi (Othello), a game shipped as its own Django app: ``rules`` holds the
rules (pure Python), ``game_rules`` registers them with the engine, and
``static/reversi/board.js`` draws the board in the browser. Adding
``"reversi"`` to ``INSTALLED_APPS`` is all the server needs to play it."""
