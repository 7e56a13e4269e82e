"""Signals the tournaments app sends, so other parts (outgoing webhooks) can
react inside the same transaction without this app knowing about them.

Every signal is sent inside the transaction that made the change, under the
tournament's row lock, with ``sender`` the model class. A receiver that raises
rolls the change back: keep receivers to writes in that transaction.
"""

from django.dispatch import Signal

# Sent with ``tournament`` when registration closes and the bracket is built
# (status ``running``), before its first matches are created.
tournament_started = Signal()

# Sent with ``tournament``, ``pairing`` (its ``round`` and ``slot``) and
# ``match`` (the data of the match just created, every seat taken) for every
# bracket match created: first round, later rounds, and the tiebreak replayed
# after a drawn or aborted match (the pairing's earlier matches are linked).
tournament_match_ready = Signal()

# Sent with ``tournament`` (status ``finished``, ``winner`` set) when its final is decided.
tournament_finished = Signal()

# Sent with ``tournament`` (status ``cancelled``) and ``reason`` (a code:
# ``too_few_players``) when it is cancelled at its start for having fewer
# than two confirmed entries.
tournament_cancelled = Signal()

# Sent with ``entry`` (status ``confirmed``) and ``tournament`` when an entry
# is confirmed: a free one at once, a paid one when its payment arrives.
entry_confirmed = Signal()
