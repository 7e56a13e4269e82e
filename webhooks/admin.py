"""Staff views of outgoing webhooks: endpoints (with their secrets, a test
event, rotation, enabling and replay), and the messages, deliveries and
attempts, read-only. The operations are those of the staff API
(:mod:`webhooks.staff`). Nothing here edits a message body or an attempt:
they are the record of what was sent and what came back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from games.engine.errors import GameError
from webhooks import staff
from webhooks.events import SUBSCRIBABLE
from webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret, Message
from webhooks.staff import URL_MAX_LENGTH

REPLAY_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<form method="post">{% csrf_token %}
  <p>Send each of these endpoints again every message since the time below
  that it wants and has not received (test events left out):</p>
  <ul>{% for endpoint in endpoints %}<li>{{ endpoint }}</li>{% endfor %}</ul>
  {{ form.as_p }}
  {% for endpoint in endpoints %}
    <input type="hidden" name="{{ checkbox_name }}" value="{{ endpoint.pk }}">
  {% endfor %}
  <input type="hidden" name="action" value="replay_since">
  <input type="submit" name="apply" value="Replay">
  <a href="" class="button cancel-link">Cancel</a>
</form>
{% endblock %}"""
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Pages to look at (and act on through actions), never to edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(text: str) -> str:
    """A message body pretty-printed (it is always JSON: the outbox writes it)."""
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(json.loads(text), indent=2))


def changelist_link(model: str, query: str, label: str) -> str:
    return format_html('<a href="{}?{}">{}</a>', reverse(f"admin:webhooks_{model}_changelist"), query, label)


# --- endpoints ------------------------------------------------------------------


class EndpointForm(forms.ModelForm):
    """The fields staff set, checked as the staff API checks them."""

    url = forms.URLField(max_length=URL_MAX_LENGTH, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(event_type, event_type) for event_type in SUBSCRIBABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "enabled"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if self.instance.pk and url == self.instance.url:
            return url  # unchanged: not checked again (see staff.update_endpoint)
        try:
            return staff.clean_url(url)
        except GameError as refusal:
            raise ValidationError(str(refusal)) from None


class ReplayForm(forms.Form):
    since = forms.DateTimeField(help_text="In the server's time zone, e.g. 2026-01-31 14:00.")


class SecretInline(ReadOnlyInline):
    """Shown in full: staff give them to the receiver's operators."""

    model = EndpointSecret
    readonly_fields = ("secret", "created_at", "expires_at", "signing")
    fields = readonly_fields
    show_change_link = False

    @admin.display(boolean=True, description="signs now")
    def signing(self, secret: EndpointSecret) -> bool:
        return secret.signs_at(timezone.now())


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "description", "enabled", "needs_attention", "failing_since",
                    "pending", "failed", "succeeded"]  # fmt: skip
    list_filter = ["enabled", "needs_attention"]
    search_fields = ["url", "description"]
    readonly_fields = ["disabled_reason", "needs_attention", "failing_since", "created_at", "updated_at", "history"]
    inlines = [SecretInline]
    actions = ["send_test_event", "rotate_secret", "enable", "disable", "replay_since"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return staff.with_counts(super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: Endpoint, form: forms.ModelForm, change: bool) -> None:
        """Through the staff operations, so a new endpoint gets its secret and
        enabling one clears its flag, as over the API."""
        data = form.cleaned_data
        fields = {name: data[name] for name in ("url", "description", "event_types", "enabled")}
        if change:
            staff.update_endpoint(obj.pk, **fields)
        else:
            obj.pk = staff.create_endpoint(**fields).pk
            obj._state.adding = False
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Endpoint) -> None:
        """Through the staff operation, which locks the deliveries first (an
        attempt recorded meanwhile must not break the delete)."""
        staff.delete_endpoint(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint_id in queryset.values_list("pk", flat=True):
            staff.delete_endpoint(endpoint_id)

    @admin.display(description="pending", ordering="pending")
    def pending(self, endpoint: Endpoint) -> int:
        return endpoint.pending  # type: ignore[attr-defined]

    @admin.display(description="failed", ordering="failed")
    def failed(self, endpoint: Endpoint) -> int:
        return endpoint.failed  # type: ignore[attr-defined]

    @admin.display(description="succeeded", ordering="succeeded")
    def succeeded(self, endpoint: Endpoint) -> int:
        return endpoint.succeeded  # type: ignore[attr-defined]

    @admin.display(description="history")
    def history(self, endpoint: Endpoint) -> str:
        if not endpoint.pk:
            return "-"
        query = f"endpoint__id__exact={endpoint.pk}"
        return format_html_join(
            ", ",
            "{}",
            [
                (changelist_link("message", f"deliveries__endpoint__id__exact={endpoint.pk}", "messages"),),
                (changelist_link("delivery", query, "deliveries"),),
                (changelist_link("attempt", query, "attempts"),),
            ],
        )

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Endpoint], operation: Callable[[int], object], done: str
    ) -> None:
        """``operation(endpoint_id)`` for each endpoint, telling staff how each went."""
        for endpoint in queryset:
            try:
                result = operation(endpoint.pk)
            except GameError as refusal:
                self.message_user(request, f"{endpoint.url}: {refusal.message}", messages.WARNING)
            else:
                self.message_user(request, f"{endpoint.url}: {done.format(result=result)}")

    @admin.action(description="Send a test event to the selected endpoints")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        self._each(request, queryset, staff.send_test_event, "test event {result.pk} sent")

    @admin.action(description="Rotate the selected endpoints' secrets (the old ones keep signing for the overlap)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        self._each(request, queryset, staff.rotate_secret, "new secret; the previous ones sign until the overlap ends")

    @admin.action(description="Enable the selected endpoints (clears their flags)")
    def enable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        self._each(request, queryset, lambda pk: staff.set_enabled(pk, True), "enabled")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        self._each(request, queryset, lambda pk: staff.set_enabled(pk, False), "disabled")

    @admin.action(description="Replay messages since a time to the selected endpoints")
    def replay_since(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> TemplateResponse | None:
        """Asks for the time on a page of its own, then replays."""
        form = ReplayForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            since = form.cleaned_data["since"]
            self._each(request, queryset, lambda pk: staff.replay_since(pk, since), "{result} message(s) replayed")
            return None
        if not form.is_bound:
            form = ReplayForm(initial={"since": timezone.localtime() - timedelta(days=1)})
        context = {
            **self.admin_site.each_context(request),
            "title": "Replay messages since a time",
            "opts": self.model._meta,
            "endpoints": list(queryset),
            "form": form,
            "checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, REPLAY_PAGE, context)


# --- messages, deliveries, attempts: the record --------------------------------


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    readonly_fields = ("endpoint", "status", "attempts", "next_attempt_at", "finished_at")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).select_related("endpoint")


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fk_name = "delivery"
    readonly_fields = ("at", "succeeded", "status_code", "duration_ms", "error", "response_excerpt")
    fields = readonly_fields


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "created_at"]
    list_filter = ["type", "deliveries__status", "deliveries__endpoint"]
    search_fields = ["=id"]
    date_hierarchy = "created_at"
    readonly_fields = ("id", "type", "created_at", "readable_body")
    fields = readonly_fields
    inlines = [DeliveryInline]
    actions = ["resend"]

    @admin.display(description="body")
    def readable_body(self, message: Message) -> str:
        return pretty_json(message.body)

    @admin.action(description="Resend the selected messages to every endpoint that had a delivery of them")
    def resend(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset:
            count = staff.resend(message.pk)
            self.message_user(request, f"{message.pk}: resent to {count} endpoint(s)")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message", "endpoint", "status", "attempts", "next_attempt_at", "finished_at", "created_at"]
    list_filter = ["status", "endpoint"]
    search_fields = ["=message__id"]
    list_select_related = ["message", "endpoint"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).defer("message__body")

    readonly_fields = ("message", "endpoint", "status", "attempts", "next_attempt_at", "claimed_by",
                       "claimed_until", "created_at", "finished_at")  # fmt: skip
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.action(description="Resend the selected deliveries (due now, the schedule starting over)")
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = staff.resend_deliveries(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Resent {count} deliver{'y' if count == 1 else 'ies'}.")


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["at", "endpoint", "message", "succeeded", "status_code", "duration_ms", "error"]
    list_filter = ["succeeded", "status_code", "endpoint", "at"]
    search_fields = ["=message__id"]
    list_select_related = ["endpoint", "message"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attempt]:
        return super().get_queryset(request).defer("message__body")

    readonly_fields = ("at", "endpoint", "message", "delivery", "succeeded", "status_code", "duration_ms",
                       "error", "response_excerpt")  # fmt: skip
    fields = readonly_fields
