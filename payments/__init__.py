"""Payments as a Django app: every payment gateway delivery (``PaymentEvent``,
on the table the games app created), the webhook receivers that verify and
store them, what a payment does to a tournament entry, and their admin."""
