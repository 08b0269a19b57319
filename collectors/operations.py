"""Running one command on a device on someone's behalf, with an audit row.

Actions use a fresh connection, never the pooled one: a poll of the same device may be using it
right now, and an action must not wait for (or be stuck behind) a slow poll.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from collectors.engine import note_transport_error, open_connection
from collectors.models import Operation, OperationStatus
from collectors.transports.base import HostKeyChanged, TransportError
from devices.models import Device
from infrastructor.logs import get_correlation_id

log = logging.getLogger(__name__)

EXCERPT_CHARS = 4000


@dataclass(frozen=True)
class OperationOutput:
    operation: Operation
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.operation.status == OperationStatus.OK


def run_operation(
    device: Device,
    *,
    action: str,
    target: str,
    command: str,
    actor: str,
    trigger: str,
    arguments: dict[str, Any] | None = None,
    timeout_s: float | None = None,
) -> OperationOutput:
    """Run `command` (already validated and quoted by the caller) and audit it."""
    started = time.monotonic()
    op = Operation.objects.create(
        device=device,
        action=action,
        target=target[:255],
        arguments=arguments or {},
        trigger=trigger,
        actor=actor[:150],
        correlation_id=get_correlation_id(),
        started_at=timezone.now(),
    )
    stdout = stderr = ""
    try:
        conn = open_connection(device, fresh=True)
        try:
            result = conn.run(command + "\n", timeout_s or settings.SSH_COMMAND_TIMEOUT)
        finally:
            conn.close()
    except TransportError as e:
        if isinstance(e, HostKeyChanged):
            note_transport_error(device, e)
        op.status, op.error_type, op.error = OperationStatus.FAILED, e.error_type, str(e)[:2000]
    else:
        stdout = result.stdout.decode(errors="replace")
        stderr = result.stderr.decode(errors="replace")
        op.exit_code = result.exit_code
        if result.timed_out:
            op.status, op.error_type = OperationStatus.FAILED, "timeout"
        elif result.exit_code != 0:
            op.status, op.error_type = OperationStatus.FAILED, "command_failed"
            op.error = (stderr.strip() or f"exit code {result.exit_code}")[:2000]
        else:
            op.status = OperationStatus.OK
        op.output_excerpt = (stdout + stderr)[-EXCERPT_CHARS:]
    op.finished_at = timezone.now()
    op.duration_ms = int((time.monotonic() - started) * 1000)
    op.save()
    log.info("operation %s %s on %s by %s: %s", action, target, device.name, actor, op.status)
    return OperationOutput(op, stdout, stderr)
