"""The benchmark as a Django app, installed everywhere so that its commands
(``manage.py loadtest``, ``manage.py benchcosts``) are always there. Loading
the app imports nothing beyond Django: the packages only the benchmark uses
(requirements-bench.txt) are imported by its commands when they run, so a
production install (requirements.txt alone) starts without them."""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"
    verbose_name = "Load benchmark"
