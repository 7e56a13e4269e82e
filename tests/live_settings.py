"""Settings of the live servers a browser test plays a game without a board
script on: the project's own, plus the test-only Nim app."""

from gameproject.settings import *  # noqa: F403
from gameproject.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.nim_app"]
