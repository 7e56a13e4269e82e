"""The load benchmark (``python manage.py loadtest``): it starts the servers
it measures, drives them over real sockets on loopback from its own process,
and compares the project with baselines measured in the same run."""
