"""The alerting API: alerts (read, acknowledge), rules (on events or metric thresholds),
silences and channels (operator scope to write, like everything else; channel secrets are
write-only). Rules and channels are checked by their models' own `problems()`."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from collectors.alerts import via_apprise
from collectors.alerts.engine import acknowledge_alert
from collectors.alerts.models import Alert, AlertRule, AlertState, Channel, ChannelKind, Silence
from collectors.alerts.tasks import send_test
from infrastructor.filters import UtcDateTimeFilter


class AlertSerializer(serializers.ModelSerializer[Alert]):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    device_name = serializers.CharField(
        source="device.name", read_only=True, default=None, allow_null=True
    )
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Alert
        fields = ["id", "rule", "rule_name", "device", "device_name", "subject", "state",
                  "severity", "summary", "value", "first_fired_at", "last_fired_at",
                  "occurrences", "last_event", "silenced", "last_notified_at", "acknowledged_by",
                  "acknowledged_at", "acknowledge_note", "resolved_at"]  # fmt: skip
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


def _merged(serializer: serializers.ModelSerializer[Any], attrs: dict[str, Any]) -> Any:
    """An unsaved model instance with the stored values overlaid by this request's, to run the
    model's own checks on (many-to-many fields left out)."""
    model: Any = serializer.Meta.model
    current = serializer.instance
    values = {
        f.attname: getattr(current, f.attname) for f in model._meta.concrete_fields if current
    }
    fields = {f.name for f in model._meta.concrete_fields}
    values |= {name: value for name, value in attrs.items() if name in fields}
    return model(**values)


class AlertRuleSerializer(serializers.ModelSerializer[AlertRule]):
    class Meta:
        model = AlertRule
        fields = ["id", "name", "description", "enabled", "rule_type", "event_kind", "event_types",
                  "min_severity", "metric", "comparison", "threshold", "clear_threshold",
                  "for_minutes", "subject_pattern", "severity", "device", "tag", "site",
                  "resolve_on", "repeat_minutes", "channels", "builtin_key",
                  "created_at"]  # fmt: skip
        read_only_fields = ["builtin_key", "created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if found := _merged(self, attrs).problems():
            raise serializers.ValidationError(found)
        return attrs


class SilenceSerializer(serializers.ModelSerializer[Silence]):
    # Not CharField(source="created_by.username", default=None): a partial update left the
    # field out when nobody (admin, MCP) was recorded as its creator.
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True,
        help_text="Who created it; null when nobody was recorded.",
    )  # fmt: skip

    class Meta:
        model = Silence
        fields = ["id", "device", "rule", "tag", "until", "reason", "created_by", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("device", "rule", "tag")
        }
        if not any(merged.values()):
            raise serializers.ValidationError("Name a device, a rule or a tag.")
        return attrs


class ChannelSerializer(serializers.ModelSerializer[Channel]):
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000,
        help_text="Webhook: HMAC key. ntfy: access token. Gotify: application token. Apprise: "
        "its URLs (several separated by spaces or commas). Never returned.",
    )  # fmt: skip
    has_secret = serializers.SerializerMethodField()
    apprise_urls = serializers.SerializerMethodField(
        help_text="Apprise: its URLs as Apprise shows them, secrets elided."
    )

    class Meta:
        model = Channel
        fields = ["id", "name", "kind", "url", "secret", "has_secret", "apprise_urls",
                  "recipients", "enabled", "is_default", "quiet_start", "quiet_end",
                  "quiet_timezone", "critical_bypasses", "created_at"]  # fmt: skip
        read_only_fields = ["created_at"]

    def get_has_secret(self, channel: Channel) -> bool:
        return bool(channel.secret)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_apprise_urls(self, channel: Channel) -> list[str]:
        if channel.kind != ChannelKind.APPRISE or not channel.secret:
            return []
        return via_apprise.masked(channel.secret)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if found := _merged(self, attrs).problems():
            raise serializers.ValidationError(found)
        return attrs


class AlertFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="last_fired_at", lookup_expr="gte")
    open = django_filters.BooleanFilter(method="filter_open")

    class Meta:
        model = Alert
        fields = ["state", "device", "rule", "severity", "silenced"]

    def filter_open(self, queryset: Any, name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(state=AlertState.RESOLVED)


class AlertViewSet(viewsets.ReadOnlyModelViewSet[Alert]):
    queryset = Alert.objects.select_related("rule", "device", "acknowledged_by")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    search_fields = ["summary", "subject", "device__name", "rule__name"]
    ordering_fields = ["last_fired_at", "first_fired_at", "severity", "occurrences"]

    @extend_schema(request=AcknowledgeSerializer, responses={200: AlertSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Firing → acknowledged, with an optional note: no more reminders until it resolves."""
        alert = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not acknowledge_alert(alert, user=request.user, note=body.validated_data["note"]):
            return Response(
                {"detail": f"The alert is {alert.state}, not firing."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(AlertSerializer(alert).data)


class AlertRuleViewSet(viewsets.ModelViewSet[AlertRule]):
    queryset = AlertRule.objects.prefetch_related("channels")
    serializer_class = AlertRuleSerializer
    filterset_fields = ["enabled", "rule_type", "metric", "event_kind", "device"]
    search_fields = ["name", "description"]


class SilenceViewSet(viewsets.ModelViewSet[Silence]):
    queryset = Silence.objects.select_related("created_by")
    serializer_class = SilenceSerializer
    filterset_fields = ["device", "rule"]

    def perform_create(self, serializer: SilenceSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        serializer.save(created_by=user if user.is_authenticated else None)


class ChannelViewSet(viewsets.ModelViewSet[Channel]):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_fields = ["kind", "enabled"]

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Queue a test notification to this channel (its attempts show in the admin)."""
        channel = self.get_object()
        send_test(channel.pk)
        return Response({"channel": channel.pk, "queued": True}, status=status.HTTP_202_ACCEPTED)
