"""Settings for the test run: the project's own settings, plus what a test
run needs without any environment. DATABASE_URL and REDIS_URL, when set,
switch the whole suite to PostgreSQL and Redis, as CI does."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"games-test-{os.getpid()}")
os.environ.setdefault("WEBSOCKET_ALLOWED_ORIGINS", "http://localhost:8000")
# Every test's HTTP client, and every live server the tests start, comes from
# 127.0.0.1: the per-address creation limits would count the whole run as one
# client. The rate-limit tests set their own limits (tests/test_limits.py).
os.environ.setdefault("GAMES_LIMIT_ADDRESS_PLAYER_CREATION", "100000/minute")
os.environ.setdefault("GAMES_LIMIT_ADDRESS_MATCH_CREATION", "100000/minute")
os.environ.setdefault("GAMES_LIMIT_ADDRESS_SOCKET_OPENS", "100000/minute")
os.environ.setdefault("GAMES_LIMIT_ADDRESS_REPLAYS", "100000/minute")
os.environ.setdefault("GAMES_MAX_SOCKETS_PER_ADDRESS", "100000")
# Tests drive the clock themselves (or run the worker as a process).
os.environ.setdefault("GAMES_CLOCK_IN_PROCESS", "0")

from gameproject.settings import *  # noqa: F403
from gameproject.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One test database per run, so two runs on one machine (a developer's
    # and CI's, or two terminals) never drop each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_gameproject_{os.getpid()}"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's shared-cache memory database: threads racing for a
    # match then wait on SQLite's lock (as processes would) instead of failing.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"games-test-{os.getpid()}.sqlite3")}
