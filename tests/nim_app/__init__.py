"""A test-only game app: Nim, a game with no board script of its own, so the
pages draw it with the generic board. Installed only in the servers that
``tests/live_settings.py`` configures (see tests/test_browser.py)."""
