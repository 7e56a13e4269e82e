"""Tournaments as a Django app: the models (on the tables the games app
created), the bracket service, the staff admin, the HTTP endpoints (a router
on the project's API), the tournament socket and page. It uses the engine
(``games``); the engine knows nothing of it: a bracket hears that a match
ended through ``games.signals.match_ended``, and the clock loop runs
:func:`tournaments.services.start_due` because this app registers it."""
