"""The MCP tools added for history, alerts, config diffs and logs: each answers what the API
answers for the same query, acknowledging goes through the alert engine, and a log read runs
over real SSH, audited as an MCP call."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from django.utils import timezone

from collectors.alerts.engine import evaluate_event
from collectors.alerts.models import Alert, AlertRule, AlertState
from collectors.models import Event, EventKind, Operation, Severity, Trigger
from devices.models import ConfigContent, ConfigFile, ConfigVersion, SystemSample
from mcp_bridge import reads
from mcp_bridge.models import CallStatus, ToolCall
from mcp_bridge.views import Caller
from tests.conftest import device_for
from tests.harness.sshd import SshdFactory
from tests.mcp.conftest import Fleet, HttpServer, Token, api, http_client, json_of, text_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def firing_alert(fleet: Fleet) -> Alert:
    """An alert opened by the engine from a critical event of nas-1, by our rule alone."""
    AlertRule.objects.update(enabled=False)  # the built-in rules
    AlertRule.objects.create(
        name="drives", event_kind=EventKind.DRIVE, event_types=["drive.failing"],
        resolve_on=["drive.recovered"], min_severity=Severity.WARNING, repeat_minutes=60,
    )  # fmt: skip
    event = Event.objects.create(
        device=fleet.nas, kind=EventKind.DRIVE, type="drive.failing", severity=Severity.CRITICAL,
        summary="WD-1234 is failing", data={"serial": "WD-1234"}, occurred_at=timezone.now(),
    )  # fmt: skip
    [alert] = evaluate_event(event.pk)
    return alert


def test_metrics_history_alerts_and_config_diffs_answer_what_the_api_answers(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    # given two hours of system samples, a firing alert and a config file changed once
    end = timezone.now().replace(microsecond=0)
    SystemSample.objects.bulk_create(
        SystemSample(device=fleet.nas, collected_at=end - dt.timedelta(minutes=m),
                     cpu_pct=float(m % 50), mem_used_pct=40.0 + m / 10, load_1=m / 60)
        for m in range(120)
    )  # fmt: skip
    alert = firing_alert(fleet)
    old = ConfigContent.objects.create(sha256="a" * 64, size_bytes=12, content="image: app:1\n")
    new = ConfigContent.objects.create(sha256="b" * 64, size_bytes=12, content="image: app:2\n")
    config = ConfigFile.objects.create(
        device=fleet.nas, path="/srv/app/compose.yaml", sha256=new.sha256, size_bytes=12,
        content=new, changed_at=end, last_seen_at=end, first_seen_at=end - dt.timedelta(days=1),
    )  # fmt: skip
    for content, age in ((old, 1), (new, 0)):
        ConfigVersion.objects.create(
            file=config, content=content, collected_at=end - dt.timedelta(days=age)
        )
    since, until = (end - dt.timedelta(hours=2)).isoformat(), end.isoformat()

    async def calls() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [
                json_of(await client.call_tool("metrics_history", {
                    "device": "nas-1", "since": since, "until": until, "points": 20,
                    "fields": ["cpu_pct", "mem_used_pct"]})),
                json_of(await client.call_tool("list_alerts", {})),
                json_of(await client.call_tool("list_config_files", {"device": "nas-1"})),
                json_of(await client.call_tool("config_diff", {"file_id": config.pk})),
            ]  # fmt: skip

    metrics, alerts, files, diff = anyio.run(calls)
    # then
    assert metrics == api(
        reader_token, f"/api/devices/{fleet.nas.pk}/metrics/", since=since, until=until,
        points=20, fields="cpu_pct,mem_used_pct", series="system",
    )  # fmt: skip
    assert 10 <= metrics["count"] <= 25
    assert metrics["fields"] == ["collected_at", "cpu_pct", "mem_used_pct"]
    assert alerts["results"] == api(reader_token, "/api/alerts/", open="true")["results"]
    assert [(a["id"], a["state"]) for a in alerts["results"]] == [(alert.pk, "firing")]
    assert (
        files["results"] == api(reader_token, "/api/config-files/", device=fleet.nas.pk)["results"]
    )
    assert [f["path"] for f in files["results"]] == ["/srv/app/compose.yaml"]
    assert diff == api(reader_token, f"/api/config-files/{config.pk}/diff/")
    assert "-image: app:1" in diff["diff"] and "+image: app:2" in diff["diff"]
    audited = dict(ToolCall.objects.values_list("tool", "device__name"))
    assert audited == {"metrics_history": "nas-1", "list_alerts": None,
                       "list_config_files": "nas-1", "config_diff": "nas-1"}  # fmt: skip


def test_an_unknown_config_file_or_a_bad_range_is_a_tool_error(
    http_server: HttpServer, reader_token: Token, fleet: Fleet
) -> None:
    async def calls() -> list[Any]:
        async with http_client(http_server.url, reader_token.clear) as client:
            return [
                await client.call_tool("config_diff", {"file_id": 999999}),
                await client.call_tool("metrics_history", {"device": "nas-1", "since": "soon"}),
            ]

    missing, bad = anyio.run(calls)
    assert missing.is_error and "list_config_files shows the ids" in text_of(missing)
    assert bad.is_error and "since" in text_of(bad)
    statuses = set(ToolCall.objects.values_list("status", flat=True))
    assert statuses == {CallStatus.ERROR}


def test_an_operator_acknowledges_an_alert_once_through_the_engine(
    http_server_with_writes: HttpServer, operator_token: Token, fleet: Fleet
) -> None:
    alert = firing_alert(fleet)

    async def calls() -> tuple[Any, Any]:
        async with http_client(http_server_with_writes.url, operator_token.clear) as client:
            args = {"alert_id": alert.pk, "note": "replacing it on Saturday"}
            return (
                await client.call_tool("alert_acknowledge", args),
                await client.call_tool("alert_acknowledge", args),
            )

    first, again = anyio.run(calls)
    answer = json_of(first)
    assert answer["ok"] and answer["alert"]["state"] == "acknowledged"
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert (alert.acknowledged_by.username, alert.acknowledge_note) == (  # type: ignore[union-attr]
        "otto", "replacing it on Saturday",
    )  # fmt: skip
    assert again.is_error and "not firing" in text_of(again)


def test_read_logs_reads_an_allowed_file_over_ssh_audited_as_an_mcp_call(
    sshd_factory: SshdFactory, client_key: Path, reader_token: Token, settings: Any
) -> None:
    # given a real host and a log file it may read
    folder = Path(tempfile.mkdtemp(prefix="infra-mcp-logs-"))
    os.chmod(folder, 0o755)  # noqa: S103  (the unprivileged SSH user reads the log)
    log = folder / "app.log"
    log.write_text("".join(f"line {n} {'ERROR' if n % 3 == 0 else 'ok'}\n" for n in range(1, 11)))
    log.chmod(0o644)
    settings.LOG_FILES_ALLOWED = [str(log)]
    device = device_for(sshd_factory(), client_key)
    caller = Caller(token=reader_token.row)
    # when
    answer = reads.read_logs(
        caller, device=device.name, source="file", path=str(log), grep="error", lines=2
    )
    # then the newest two matching lines, read now
    assert answer["ok"] and answer["lines"] == ["line 6 ERROR", "line 9 ERROR"]
    operation = Operation.objects.get()
    assert (operation.action, operation.target, operation.trigger) == (
        "logs.file", str(log), Trigger.MCP,
    )  # fmt: skip
    assert operation.actor == "token:agent-read (rita)"
    assert caller.device == device
    # and a path not allowed never reaches the device
    with pytest.raises(reads.ToolError, match="LOG_FILES_ALLOWED"):
        reads.read_logs(caller, device=device.name, source="file", path="/etc/shadow")
    assert Operation.objects.count() == 1
