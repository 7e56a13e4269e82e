"""What a confirmed or refunded payment does to a tournament entry. The
webhook views verify and store deliveries; this module only decides.

Each function returns the delivery's outcome (``processed`` or ``flagged``)
and a note for staff. Every decision is taken under the tournament's row
lock, so however many payments race for the last place, at most
``capacity`` entries are ever confirmed.

Other apps hear of the results through signals sent in the same
transaction: ``tournaments.signals.entry_confirmed`` when a payment confirms
an entry, and ``payments.signals.entry_flagged`` (sent by the webhook views, which know
the delivery) when a delivery is processed as ``flagged``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.utils import timezone

from payments.models import PaymentEvent
from tournaments.models import Entry
from tournaments.services import changed, confirmed_count, lock_tournament
from tournaments.signals import entry_confirmed

Outcome = tuple[str, str]
PROCESSED, FLAGGED = PaymentEvent.Outcome.PROCESSED, PaymentEvent.Outcome.FLAGGED


@dataclass
class Decision:
    """What the decisions taken while processing one delivery concern: the
    entry, once one is found (``payments.signals.entry_flagged`` names it)."""

    entry: Entry | None = None


_decision: ContextVar[Decision | None] = ContextVar("payments_decision", default=None)


@contextmanager
def deciding() -> Iterator[Decision]:
    """Collect, for the caller, which entry the decisions taken inside concern.
    The decisions keep returning plain outcomes; this only records the entry."""
    decision = Decision()
    token = _decision.set(decision)
    try:
        yield decision
    finally:
        _decision.reset(token)


def _concerns(entry: Entry) -> None:
    decision = _decision.get()
    if decision is not None:
        decision.entry = entry


def payment_succeeded(reference: str, amount: int, currency: str, payment_intent: str | None = None) -> Outcome:
    entry = Entry.objects.filter(client_reference_id=reference).first()
    if entry is None:
        return FLAGGED, f"no entry has the reference {reference!r}"
    tournament = lock_tournament(entry.tournament_id)
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    _concerns(entry)
    if entry.status == Entry.Status.CONFIRMED:
        return PROCESSED, "entry already confirmed"
    entry.amount_paid, entry.currency_paid = amount, currency.lower()
    entry.payment_intent = payment_intent or entry.payment_intent
    if amount != tournament.entry_fee or currency.lower() != tournament.currency:
        entry.status = Entry.Status.PAYMENT_MISMATCH
        entry.note = f"paid {amount} {currency.lower()}, the fee is {tournament.entry_fee} {tournament.currency}"
    elif tournament.status != tournament.Status.REGISTRATION:
        entry.status = Entry.Status.REFUND_DUE
        entry.note = f"paid after registration closed (tournament {tournament.status})"
    elif confirmed_count(tournament) >= tournament.capacity:
        entry.status = Entry.Status.REFUND_DUE
        entry.note = "paid when every place was already taken"
    else:
        entry.status = Entry.Status.CONFIRMED
        entry.confirmed_at = timezone.now()
        entry.note = ""
    entry.save()
    changed(tournament)
    if entry.status == Entry.Status.CONFIRMED:
        entry_confirmed.send(sender=Entry, entry=entry, tournament=tournament)
        return PROCESSED, "entry confirmed"
    return FLAGGED, entry.note


def payment_pending(reference: str, payment_intent: str | None, note: str) -> Outcome:
    """An asynchronous payment started or failed: the entry stays pending."""
    updated = Entry.objects.filter(client_reference_id=reference, status=Entry.Status.PENDING_PAYMENT).update(
        payment_intent=payment_intent, note=note
    )
    if updated:
        return PROCESSED, note
    entry = Entry.objects.filter(client_reference_id=reference).first()
    if entry is not None:
        _concerns(entry)
    return FLAGGED, f"no pending entry has the reference {reference!r}"


def payment_refunded(*, reference: str | None = None, payment_intent: str | None = None) -> Outcome:
    """Mark the entry refunded; its place is free again while registration is open."""
    entries = Entry.objects.all()
    entry = (
        entries.filter(client_reference_id=reference).first()
        if reference
        else entries.filter(payment_intent=payment_intent).first()
        if payment_intent
        else None
    )
    if entry is None:
        return FLAGGED, f"no entry matches the refund ({reference or payment_intent})"
    tournament = lock_tournament(entry.tournament_id)
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    _concerns(entry)
    entry.status = Entry.Status.REFUNDED
    entry.note = "" if tournament.status == tournament.Status.REGISTRATION else f"refunded while {tournament.status}"
    entry.save()
    changed(tournament)
    return PROCESSED, "entry refunded"
