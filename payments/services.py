"""What a confirmed or refunded payment does to a tournament entry. The
webhook views verify and store deliveries; this module only decides.

Each function returns the delivery's outcome (``processed`` or ``flagged``)
and a note for staff. Every decision is taken under the tournament's row
lock, so however many payments race for the last place, at most
``capacity`` entries are ever confirmed.
"""

from __future__ import annotations

from django.utils import timezone

from payments.models import PaymentEvent
from tournaments.models import Entry
from tournaments.services import changed, confirmed_count, lock_tournament

Outcome = tuple[str, str]
PROCESSED, FLAGGED = PaymentEvent.Outcome.PROCESSED, PaymentEvent.Outcome.FLAGGED


def payment_succeeded(reference: str, amount: int, currency: str, payment_intent: str | None = None) -> Outcome:
    entry = Entry.objects.filter(client_reference_id=reference).first()
    if entry is None:
        return FLAGGED, f"no entry has the reference {reference!r}"
    tournament = lock_tournament(entry.tournament_id)
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
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
        return PROCESSED, "entry confirmed"
    return FLAGGED, entry.note


def payment_pending(reference: str, payment_intent: str | None, note: str) -> Outcome:
    """An asynchronous payment started or failed: the entry stays pending."""
    updated = Entry.objects.filter(client_reference_id=reference, status=Entry.Status.PENDING_PAYMENT).update(
        payment_intent=payment_intent, note=note
    )
    return (PROCESSED, note) if updated else (FLAGGED, f"no pending entry has the reference {reference!r}")


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
    entry.status = Entry.Status.REFUNDED
    entry.note = "" if tournament.status == tournament.Status.REGISTRATION else f"refunded while {tournament.status}"
    entry.save()
    changed(tournament)
    return PROCESSED, "entry refunded"
