"""The audit trail of MCP tool calls: who asked what, with which arguments, and how it ended.

A dedicated model rather than `collectors.Operation`: most tool calls are fleet-wide reads that
touch no device, and an Operation always belongs to one. Write tools still leave their own
Operation rows (trigger `mcp`), written by the services they call; both carry the correlation id.
"""

from __future__ import annotations

from django.db import models


class CallStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error (a tool error was returned)"
    DENIED = "denied", "Denied (the token may not do this)"


class McpTransport(models.TextChoices):
    STDIO = "stdio", "stdio"
    HTTP = "http", "Streamable HTTP"


class ToolCall(models.Model):
    """One MCP tool call, successful or not."""

    tool = models.CharField(max_length=64, db_index=True)
    arguments = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150)
    token = models.ForeignKey(
        "infrastructor.ApiToken", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="mcp_calls",
    )  # fmt: skip
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="mcp_calls",
    )  # fmt: skip
    transport = models.CharField(max_length=8, choices=McpTransport.choices)
    status = models.CharField(max_length=8, choices=CallStatus.choices)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="mcp_call_time")]

    def __str__(self) -> str:
        return f"{self.tool} by {self.actor}: {self.status}"
