"""Serializers of the device registry. Secrets are write-only: never serialised back."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from collectors.transports.base import ConfigError, fingerprint
from devices import metrics
from devices.models import (
    AuthMethod,
    Device,
    DiskSample,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
    Transport,
)
from devices.services import set_stored_private_key


class SystemSampleSerializer(serializers.ModelSerializer[SystemSample]):
    class Meta:
        model = SystemSample
        exclude = ["id", "device"]


class FilesystemSampleSerializer(serializers.ModelSerializer[FilesystemSample]):
    class Meta:
        model = FilesystemSample
        exclude = ["id", "device"]


class InterfaceSampleSerializer(serializers.ModelSerializer[InterfaceSample]):
    class Meta:
        model = InterfaceSample
        exclude = ["id", "device"]


class DiskSampleSerializer(serializers.ModelSerializer[DiskSample]):
    class Meta:
        model = DiskSample
        exclude = ["id", "device"]


def latest_summary(device: Device) -> dict[str, Any]:
    """The newest values of every series: what a dashboard tile shows."""
    system = metrics.latest_system(device)
    return {
        "system": SystemSampleSerializer(system).data if system else None,
        "filesystems": FilesystemSampleSerializer(
            metrics.latest_filesystems(device), many=True
        ).data,
        "interfaces": InterfaceSampleSerializer(metrics.latest_interfaces(device), many=True).data,
        "disks": DiskSampleSerializer(metrics.latest_disks(device), many=True).data,
    }


class DeviceSerializer(serializers.ModelSerializer[Device]):
    private_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=False,
        style={"base_template": "textarea.html"},
        help_text="OpenSSH private key to store encrypted (auth method 'stored_key'). Write-only.",
    )
    has_stored_key = serializers.BooleanField(read_only=True)
    host_key_fingerprint = serializers.SerializerMethodField()
    offered_host_key_fingerprint = serializers.SerializerMethodField()
    queue = serializers.CharField(read_only=True)

    class Meta:
        model = Device
        fields = [
            "id", "name", "address", "port", "username", "auth_method", "key_path",
            "private_key", "has_stored_key", "transport", "device_type", "site", "queue", "tags",
            "enabled", "notes", "status", "status_reason", "status_changed_at", "last_seen_at",
            "consecutive_failures", "next_attempt_at", "host_key_fingerprint",
            "host_key_pinned_at", "offered_host_key_fingerprint", "capabilities",
            "capabilities_checked_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "status_reason", "status_changed_at", "last_seen_at",
            "consecutive_failures", "next_attempt_at", "host_key_pinned_at", "capabilities",
            "capabilities_checked_at", "created_at", "updated_at",
        ]  # fmt: skip

    def get_host_key_fingerprint(self, obj: Device) -> str | None:
        return fingerprint(obj.host_key) if obj.host_key else None

    def get_offered_host_key_fingerprint(self, obj: Device) -> str | None:
        return fingerprint(obj.offered_host_key) if obj.offered_host_key else None

    def validate_tags(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            "auth_method": getattr(self.instance, "auth_method", AuthMethod.KEY_FILE),
            "key_path": getattr(self.instance, "key_path", ""),
            "transport": getattr(self.instance, "transport", Transport.SSH),
            "has_key": bool(getattr(self.instance, "encrypted_private_key", "")),
        } | attrs
        if merged["transport"] == Transport.SSH:
            if merged["auth_method"] == AuthMethod.KEY_FILE and not merged["key_path"]:
                raise serializers.ValidationError(
                    {"key_path": "Required for auth method key_file."}
                )
            if (
                merged["auth_method"] == AuthMethod.STORED_KEY
                and not merged["has_key"]
                and not attrs.get("private_key")
            ):
                raise serializers.ValidationError(
                    {"private_key": "Required for auth method stored_key."}
                )
        return attrs

    def _apply_key(self, device: Device, private_key: str | None) -> None:
        if private_key:
            try:
                set_stored_private_key(device, private_key)
            except ConfigError as e:
                raise serializers.ValidationError({"private_key": str(e)}) from e

    def create(self, validated_data: dict[str, Any]) -> Device:
        private_key = validated_data.pop("private_key", None)
        device = Device(**validated_data)
        self._apply_key(device, private_key)
        device.save()
        return device

    def update(self, instance: Device, validated_data: dict[str, Any]) -> Device:
        private_key = validated_data.pop("private_key", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        self._apply_key(instance, private_key)
        fields = [*validated_data, "updated_at"]
        if private_key:
            fields.append("encrypted_private_key")
        # update_fields: a poll finishing meanwhile keeps its status/last_seen changes.
        instance.save(update_fields=fields)
        return instance


class DeviceDetailSerializer(DeviceSerializer):
    latest = serializers.SerializerMethodField()

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "latest"]

    def get_latest(self, obj: Device) -> dict[str, Any]:
        return latest_summary(obj)


class CollectRequestSerializer(serializers.Serializer[Any]):
    kinds = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class ConnectionTestSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    duration_ms = serializers.IntegerField()
    host_key_fingerprint = serializers.CharField(allow_null=True)
    error_type = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
