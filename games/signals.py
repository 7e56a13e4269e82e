"""Signals the match service sends, so other parts (tournaments) can react
inside the same transaction without the service knowing about them."""

from django.dispatch import Signal

# Sent with ``match`` (the locked Match row), ``data`` (match data) and
# ``event`` (the ending event) when a match finishes or is aborted, inside
# the transaction that ended it.
match_ended = Signal()

# Sent like ``match_ended`` but before the final match is stored and
# broadcast, with ``event`` (the ending event): a receiver may return a dict
# whose keys are added to the finished match's ``result`` (the ratings app
# adds ``ratings``), so everyone sees them in the same event. Receivers must
# not use the rules' own keys (``winner``, ``reason``).
match_ending = Signal()

# Sent with ``match`` (the locked Match row), ``data`` (the match after the
# event) and ``event`` for every logged event, inside its transaction (the
# bots app uses it to notice a bot's turn). Every move pays for its
# receivers: keep them to a few dictionary lookups, and defer real work with
# ``transaction.on_commit``.
event_logged = Signal()

# Sent with ``match`` when a match is created, fills up or ends (its status
# changes), inside the transaction that changed it; ``data`` is the match
# after the event and ``previous`` its status before (on a match's first
# event, its creation, it is sent even when the status stays the same).
match_status_changed = Signal()
