"""Signals the payments app sends, so other parts (outgoing webhooks) can
react inside the same transaction without it knowing about them."""

from django.dispatch import Signal

# Sent with ``payment`` (the PaymentEvent being processed), ``entry`` (the
# entry the payment concerns, or None when it matches none) and ``reason``
# (the note for staff) when a delivery is processed with the ``flagged``
# outcome, inside the transaction that processed it.
entry_flagged = Signal()
