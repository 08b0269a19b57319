"""Alerting in the admin: alerts (filters, acknowledge), rules, silences and channels (with a
"send test" action). Imported by collectors.admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.utils import timezone

from collectors.alerts import via_apprise
from collectors.alerts.engine import acknowledge_alert, silence_alerts
from collectors.alerts.models import (
    Alert,
    AlertRule,
    AttemptStatus,
    Channel,
    ChannelKind,
    NotificationAttempt,
    NotificationReason,
    Silence,
)
from collectors.alerts.notify import deliver


class AttemptInline(admin.TabularInline[NotificationAttempt, Any]):
    model = NotificationAttempt
    fields = ["at", "channel", "reason", "attempt", "status", "http_status", "error"]
    readonly_fields = ["at", "channel", "reason", "attempt", "status", "http_status", "error"]
    extra = 0
    can_delete = False
    ordering = ["-at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = ["last_fired_at", "state", "severity", "rule", "device", "subject", "summary",
                    "occurrences", "silenced"]  # fmt: skip
    list_filter = ["state", "severity", "silenced", "rule", "device"]
    list_select_related = ["rule", "device"]
    search_fields = ["summary", "subject", "device__name", "rule__name"]
    date_hierarchy = "last_fired_at"
    readonly_fields = [f.name for f in Alert._meta.fields if f.name != "acknowledge_note"]
    inlines = [AttemptInline]
    actions = ["acknowledge", "silence"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # alerts come from events only

    @admin.action(description="Acknowledge selected firing alerts")
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        done = sum(acknowledge_alert(a, user=request.user) for a in queryset)
        self.message_user(request, f"{done} alert(s) acknowledged.", messages.SUCCESS)

    @admin.action(description="Silence selected alerts (for a while, with a reason)...")
    def silence(self, request: HttpRequest, queryset: QuerySet[Alert]) -> TemplateResponse | None:
        """An intermediate page asks how long and why; its form posts back to this action."""
        alerts = list(queryset.select_related("rule", "device"))
        form = SilenceAlertsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            made = silence_alerts(alerts, user=request.user, until=form.cleaned_data["until"],
                                  reason=form.cleaned_data["reason"])  # fmt: skip
            until = f"{form.cleaned_data['until']:%Y-%m-%d %H:%M} UTC"
            self.message_user(request, f"{len(made)} silence(s) until {until}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request), "title": "Silence alerts", "form": form,
            "alerts": alerts, "opts": self.model._meta, "checkbox": helpers.ACTION_CHECKBOX_NAME,
        }  # fmt: skip
        return TemplateResponse(request, engines["django"].from_string(SILENCE_PAGE), context)


SILENCE_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}<form method="post">{% csrf_token %}
<p>One silence per rule and device below: these alerts keep being recorded, nobody is told
until the silence ends.</p>
<ul>{% for alert in alerts %}<li>{{ alert.rule }} on {{ alert.device|default:"any device" }}:
{{ alert.summary }}</li>{% endfor %}</ul>
{{ form.as_p }}
{% for alert in alerts %}<input type="hidden" name="{{ checkbox }}" value="{{ alert.pk }}">
{% endfor %}<input type="hidden" name="action" value="silence">
<input type="submit" name="apply" value="Silence">
<a href="" class="button cancel-link">Cancel</a></form>{% endblock %}"""

DURATIONS = [(60, "1 hour"), (240, "4 hours"), (720, "12 hours"), (1440, "1 day"),
             (10080, "1 week")]  # fmt: skip


class SilenceAlertsForm(forms.Form):
    """How long (a duration, or until a time in UTC) and why; `until` in cleaned_data."""

    duration = forms.TypedChoiceField(
        choices=[("", "---------"), *DURATIONS], coerce=int, required=False, empty_value=None,
        help_text="Or give an end below.",
    )  # fmt: skip
    until = forms.DateTimeField(required=False, help_text="UTC, such as 2026-12-01 08:00.")
    reason = forms.CharField(max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        duration, until = data.get("duration"), data.get("until")
        if (duration is None) == (until is None):
            raise forms.ValidationError("Give either a duration or an end time.")
        if duration is not None:
            until = timezone.now() + dt.timedelta(minutes=duration)
        if until is not None and until <= timezone.now():
            raise forms.ValidationError("The end time is already past.")
        data["until"] = until
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin[AlertRule]):
    list_display = ["name", "enabled", "rule_type", "condition", "repeat_minutes", "builtin_key"]
    list_filter = ["enabled", "rule_type", "metric", "event_kind", "min_severity"]
    list_editable = ["enabled"]
    search_fields = ["name", "description"]
    filter_horizontal = ["channels"]
    raw_id_fields = ["device"]
    readonly_fields = ["builtin_key"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "rule_type", "builtin_key"]}),
        ("On events", {"fields": ["event_kind", "event_types", "min_severity", "resolve_on"],
                       "description": "Rules of type 'On events'."}),
        ("On a metric threshold", {
            "fields": ["metric", ("comparison", "threshold", "clear_threshold"), "for_minutes",
                       "subject_pattern", "severity"],
            "description": "Fires once every sample of 'for minutes' breached the threshold; "
            "resolves once the value is back past the clear threshold.",
        }),
        ("Which devices", {"fields": ["device", "tag", "site"]}),
        ("Notifications", {"fields": ["repeat_minutes", "channels"]}),
    ]  # fmt: skip

    @admin.display(description="condition")
    def condition(self, rule: AlertRule) -> str:
        if rule.is_metric:
            text = f"{rule.metric} {rule.comparison} {rule.threshold:g}"
            if rule.clear_threshold is not None:
                text += f" (clear {rule.clear_threshold:g})"
            return text + (f" for {rule.for_minutes} min" if rule.for_minutes else "")
        return ", ".join(rule.event_types) or f"any {rule.event_kind or 'event'}"


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin[Silence]):
    list_display = ["until", "device", "rule", "tag", "reason", "created_by"]
    list_filter = ["rule"]
    raw_id_fields = ["device"]
    readonly_fields = ["created_by"]

    def save_model(self, request: HttpRequest, obj: Silence, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ChannelForm(forms.ModelForm[Channel]):
    """The secret is never shown back; leaving it empty on edit keeps the stored one."""

    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=Channel._meta.get_field("secret").help_text + " Leave empty to keep it.",
    )
    clear_secret = forms.BooleanField(required=False, help_text="Remove the stored secret.")

    class Meta:
        model = Channel
        fields = ["name", "kind", "url", "secret", "recipients", "enabled", "is_default",
                  "quiet_start", "quiet_end", "quiet_timezone", "critical_bypasses"]  # fmt: skip

    def clean_secret(self) -> str:
        value = str(self.cleaned_data.get("secret") or "")
        if self.data.get("clear_secret"):
            return ""
        if not value and self.instance.pk:
            return self.instance.secret
        return value


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin[Channel]):
    form = ChannelForm
    list_display = ["name", "kind", "url", "enabled", "is_default", "quiet_hours"]
    list_filter = ["kind", "enabled"]
    actions = ["send_test"]
    readonly_fields = ["apprise_urls"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled", "is_default"]}),
        ("Where", {"fields": ["url", "secret", "clear_secret", "apprise_urls", "recipients"],
                   "description": "Webhook, ntfy and Gotify: URL (and secret or token). "
                   "Email: recipients. Apprise: its URLs in the secret field."}),
        ("Quiet hours", {"fields": [("quiet_start", "quiet_end"), "quiet_timezone",
                                    "critical_bypasses"],
                         "description": "Non-critical notifications in this window wait for "
                         "its end. It may cross midnight (22:00 to 07:00)."}),
    ]  # fmt: skip

    @admin.display(description="Apprise URLs (masked)")
    def apprise_urls(self, channel: Channel) -> str:
        if channel.kind != ChannelKind.APPRISE or not channel.secret:
            return "-"
        return ", ".join(via_apprise.masked(channel.secret))

    @admin.display(description="quiet hours")
    def quiet_hours(self, channel: Channel) -> str:
        if channel.quiet_start is None or channel.quiet_end is None:
            return "-"
        return (f"{channel.quiet_start:%H:%M}-{channel.quiet_end:%H:%M} "
                f"{channel.quiet_timezone}")  # fmt: skip

    @admin.action(description="Send a test notification (now, once)")
    def send_test(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            if not channel.enabled:
                self.message_user(request, f"{channel.name}: disabled.", messages.WARNING)
                continue
            attempt = deliver(None, channel.pk, NotificationReason.TEST)
            if attempt is not None and attempt.status == AttemptStatus.OK:
                how = f" (HTTP {attempt.http_status})" if attempt.http_status else ""
                self.message_user(request, f"{channel.name}: delivered{how}.", messages.SUCCESS)
            else:
                error = attempt.error if attempt else "not sent"
                self.message_user(request, f"{channel.name}: {error}", messages.ERROR)


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(admin.ModelAdmin[NotificationAttempt]):
    list_display = ["at", "channel", "alert", "reason", "attempt", "status", "http_status",
                    "error"]  # fmt: skip
    list_filter = ["status", "reason", "channel"]
    list_select_related = ["channel", "alert"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
