"""End to end over real SSH: a host whose `df` (a shim) shows /srv filling to 95 %. Collected
through the real engine every "30 s" (each poll's samples are moved back 30 s, so five minutes
pass in a second), evaluated by the metric tick: the built-in rule fires once after its five
minutes, is not repeated, resolves only at 85 %, and stays quiet while the device is silenced.
The queued notifications are then delivered to a real local webhook."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from collectors.alerts.builtin import ensure_builtin_rules
from collectors.alerts.metrics import Outcome, evaluate_metric_rules
from collectors.alerts.models import Alert, AlertRule, AlertState, Channel, Silence
from collectors.alerts.notify import deliver
from collectors.engine import collect
from collectors.models import RunStatus
from devices.models import Device, FilesystemSample
from tests.alerts.conftest import NotifyQueue, Receiver
from tests.conftest import device_for

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

SHIM = "#!/bin/sh\ncat __DATA__/df.txt\n"
SIZE = 100 * 1024**3
HEADER = "Filesystem     Type     1-blocks        Used   Available Capacity Mounted on\n"


class DfHost:
    """The output the shim prints, switched between polls."""

    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-df-"))
        os.chmod(self.data, 0o755)  # noqa: S103  (the unprivileged test user reads it)
        self.set(50)

    @property
    def shim(self) -> str:
        return SHIM.replace("__DATA__", str(self.data))

    def set(self, srv_pct: float) -> None:
        used = int(SIZE * srv_pct / 100)
        text = HEADER + (
            f"/dev/sda1      ext4  {SIZE} {SIZE // 5} {SIZE - SIZE // 5} 20% /\n"
            f"/dev/sdb1      xfs   {SIZE} {used} {SIZE - used} {round(srv_pct)}% /srv\n"
        )
        (self.data / "df.txt").write_text(text)
        (self.data / "df.txt").chmod(0o644)


@pytest.fixture
def df_host() -> Iterator[DfHost]:
    host = DfHost()
    yield host
    shutil.rmtree(host.data, ignore_errors=True)


@pytest.fixture
def df_device(df_host: DfHost, sshd_factory: Any, client_key: Path) -> Device:
    return device_for(sshd_factory(shims={"df": df_host.shim}), client_key)


def poll_and_tick(device: Device, django_capture_on_commit_callbacks: Any) -> Outcome:
    """One poll over SSH, 30 s ago as far as the samples are concerned, then beat's tick."""
    FilesystemSample.objects.filter(device=device).update(
        collected_at=F("collected_at") - dt.timedelta(seconds=30)
    )
    run = collect(device, ["df"], trigger="cli")
    assert run is not None and run.status == RunStatus.OK, run and run.kind_results
    with django_capture_on_commit_callbacks(execute=True):
        return evaluate_metric_rules(timezone.now())


def test_a_filling_filesystem_alerts_once_resolves_below_85_and_stays_quiet_when_silenced(
    df_host: DfHost, df_device: Device, receiver: Receiver, notify_queue: NotifyQueue,
    django_capture_on_commit_callbacks: Any, settings: Any,
) -> None:  # fmt: skip
    settings.PUBLIC_URL = "https://infra.example.org"
    ensure_builtin_rules()
    AlertRule.objects.exclude(builtin_key="filesystem-full").update(enabled=False)
    hook = Channel.objects.create(name="hook", kind="webhook", url=receiver.url("/hook"))

    def tick() -> Outcome:
        return poll_and_tick(df_device, django_capture_on_commit_callbacks)

    assert tick().changed == 0
    # when /srv is 95 % full: ten polls (4.5 minutes) are not enough
    df_host.set(95)
    for _ in range(10):
        assert tick().changed == 0
    # the eleventh (five minutes after the first) fires
    (alert,) = tick().fired
    assert (alert.subject, alert.value, alert.state) == ("mount:/srv", 95.0, AlertState.FIRING)
    # and the channel hears what, where, the value, since when, and where to look
    assert notify_queue.take() == [(alert.pk, hook.pk, "firing")]
    deliver(alert.pk, hook.pk, "firing")
    firing = receiver.on("/hook")[0].json()
    assert firing["summary"].startswith(f"{df_device.name}: filesystem /srv used 95 % (> 90 %")
    assert (firing["value"], firing["state"], firing["since"]) == (
        95.0, "firing", alert.first_fired_at.isoformat())  # fmt: skip
    assert firing["url"] == (
        f"https://infra.example.org/admin/devices/device/{df_device.pk}/change/"
    )
    # still full: not repeated
    for _ in range(3):
        assert tick().changed == 0
    # 88 %: under 90 but not yet under the clear mark, still firing
    df_host.set(88)
    assert tick().changed == 0
    # 84 %: resolved
    df_host.set(84)
    (resolved,) = tick().resolved
    assert resolved.pk == alert.pk
    assert notify_queue.take() == [(alert.pk, hook.pk, "resolved")]
    deliver(alert.pk, hook.pk, "resolved")
    resolution = receiver.on("/hook")[1].json()
    assert resolution["state"] == "resolved" and resolution["value"] == 84.0
    assert resolution["summary"].endswith("used 84 % (> 90 % for 5 min); back past 85")
    # when the device is silenced and /srv fills again, the alert is recorded but not sent
    Silence.objects.create(device=df_device, reason="moving data",
                           until=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
    df_host.set(97)
    fired = [a for _ in range(11) for a in tick().fired]
    assert len(fired) == 1 and fired[0].silenced and fired[0].state == AlertState.FIRING
    assert Alert.objects.open().count() == 1
    assert notify_queue.take() == []
