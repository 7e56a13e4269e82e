"""Staff views of payment gateway deliveries: filter, read, reprocess."""

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from payments import webhooks
from payments.models import PaymentEvent


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "event_id", "type", "signature_valid", "duplicate", "outcome"]
    list_filter = ["provider", "type", "signature_valid", "duplicate", "outcome"]
    search_fields = ["event_id", "body"]
    readonly_fields = ["provider", "event_id", "type", "readable_body", "headers", "received_at",
                       "signature_valid", "duplicate", "outcome", "error", "processed_at"]  # fmt: skip
    exclude = ["body"]
    actions = ["reprocess"]

    @admin.display(description="body")
    def readable_body(self, event: PaymentEvent) -> str:
        """Pretty-printed when it is JSON; as received otherwise (NUL and
        bytes that are not UTF-8 shown as U+FFFD; the exact bytes are in raw_body)."""
        try:
            text = json.dumps(json.loads(event.body), indent=2, sort_keys=True, ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to decode or print
            text = event.body
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Process the selected failed events again")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[PaymentEvent]) -> None:
        for event in queryset.filter(outcome=PaymentEvent.Outcome.FAILED, signature_valid=True, duplicate=False):
            response = webhooks.process(event.pk, webhooks.handlers_for(event.provider))
            self.message_user(request, f"event {event.event_id}: {json.loads(response.content)['outcome']}")
