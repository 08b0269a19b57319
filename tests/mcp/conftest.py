"""A real `manage.py runmcp` on the test database, the SDK's own client, and a small fleet.

The server runs in a subprocess, so every row it must see is committed first
(`transactional_db`), and the rows it writes (the audit) are visible to the test afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, TextContent
from rest_framework.test import APIClient

from collectors.kinds import registry
from collectors.models import CollectionRun, Event, EventKind, Severity, Trigger
from collectors.store import StoreContext
from containers.models import Container, ContainerState
from devices.models import AuthMethod, Device, DeviceStatus, Drive, DriveSample, ListeningPort
from infrastructor.models import ApiToken, Scope
from mcp_bridge.views import HUMAN_SUFFIX
from tests.samples import sample

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    row: ApiToken
    clear: str


@pytest.fixture
def reader_token(transactional_db: None) -> Token:
    user = User.objects.create_user("rita")
    row, clear = ApiToken.issue(user=user, name="agent-read", scope=Scope.READ)
    return Token(row, clear)


@pytest.fixture
def operator_token(transactional_db: None) -> Token:
    user = User.objects.create_user("otto", is_staff=True)
    row, clear = ApiToken.issue(user=user, name="agent-ops", scope=Scope.OPERATOR)
    return Token(row, clear)


# --- the server process -------------------------------------------------------------------------


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a runmcp subprocess: the test database, no .env file, no log files."""
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "INFRA_ENV_FILE": "/nonexistent/.env",
        "LOG_DIR": "",
        "SSH_CONNECT_TIMEOUT": "3",
        "SSH_COMMAND_TIMEOUT": "10",
        **extra,
    }


def stdio_params(**extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["manage.py", "runmcp"], cwd=str(REPO),
        env=server_env(**extra),
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HttpServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as docker or `./infra stop` sends it; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def start_http_server(tmp_path: Path, **extra: str) -> HttpServer:
    port = free_port()
    log = tmp_path / f"runmcp-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runmcp", "--transport", "http", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=REPO, env=os.environ | server_env(**extra), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = HttpServer(f"http://127.0.0.1:{port}/mcp", proc, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"runmcp exited with {proc.returncode}:\n{server.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"runmcp did not listen within {START_TIMEOUT_S} s:\n{server.output()}")


@pytest.fixture
def http_server(transactional_db: None, tmp_path: Path) -> Iterator[HttpServer]:
    """runmcp over streamable HTTP, write tools off (the default)."""
    server = start_http_server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def http_server_with_writes(transactional_db: None, tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(tmp_path, MCP_ALLOW_WRITES="true")
    yield server
    server.stop()


@asynccontextmanager
async def http_client(url: str, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def raw_post(url: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    """An `initialize` POST as any MCP client sends it first."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "0"}},
    }  # fmt: skip
    return httpx2.post(
        url, json=body, timeout=10,
        headers={"Accept": "application/json, text/event-stream", **(headers or {})},
    )  # fmt: skip


def api(token: Token, path: str, **params: Any) -> Any:
    """What the REST API answers `token` for GET `path` with `params` (asserting a 200)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.clear}")
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def text_of(result: CallToolResult) -> str:
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


def raw_json_of(result: CallToolResult) -> Any:
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def without_human(data: Any) -> Any:
    """`data` without the `<field>_human` companions tools add to byte sizes: what the API
    answers (contract tests compare with it)."""
    if isinstance(data, list):
        return [without_human(item) for item in data]
    if isinstance(data, dict):
        return {k: without_human(v) for k, v in data.items() if not k.endswith(HUMAN_SUFFIX)}
    return data


def json_of(result: CallToolResult) -> Any:
    """A tool's JSON answer as the API would give it (see without_human; raw_json_of has all)."""
    return without_human(raw_json_of(result))


# --- a small fleet, partly stored from real captured outputs ----------------------------------


def store_sample(device: Device, kind_name: str, relpath: str) -> None:
    """Parse a real captured output and store it with the kind's own store function, as a
    collection of `device` would."""
    kind = registry.get(kind_name)
    assert kind.store is not None
    now = timezone.now()
    run = CollectionRun.objects.create(
        device=device, kinds=[kind_name], trigger=Trigger.CLI, started_at=now
    )
    ctx = StoreContext(device=device, run=run, collected_at=now)
    with transaction.atomic():
        kind.store(ctx, kind.parser(sample(relpath)))
        for _, finalizer in ctx.finalizers():
            finalizer()


@dataclass(frozen=True)
class Fleet:
    nas: Device
    web: Device
    drive: Drive


@pytest.fixture
def fleet(transactional_db: None) -> Fleet:
    now = timezone.now()
    nas = Device.objects.create(
        name="nas-1", address="127.0.0.1", port=1, auth_method=AuthMethod.KEY_FILE,
        key_path="/nonexistent/key", status=DeviceStatus.ONLINE, last_seen_at=now,
        tags=["storage"], capabilities={"docker": True, "zfs": True},
    )  # fmt: skip
    web = Device.objects.create(
        name="web-2", address="127.0.0.1", port=1, auth_method=AuthMethod.KEY_FILE,
        key_path="/nonexistent/key", status=DeviceStatus.OFFLINE, status_reason="timeout",
    )  # fmt: skip
    store_sample(nas, "zpool-status", "zfs/jc_zpool_status_mirrors_with_spare.out")
    store_sample(nas, "docker-ps", "docker/dockercli_docs_ps_format_json_nginx.txt")
    Container.objects.create(
        device=web, name="nextcloud", container_id="c0ffee" * 4, image="nextcloud:29",
        state=ContainerState.EXITED, exit_code=137, first_seen_at=now, last_seen_at=now,
    )  # fmt: skip
    drive = Drive.objects.create(
        device=nas, identity="nas-1:WD-1234", serial="WD-1234", model="WDC WD80EFAX",
        slot="/dev/sda", assessment="warning", assessment_reasons=["pending sectors: 8"],
        temperature_c=41, power_on_hours=31000, pending_sectors=8, first_seen_at=now,
        last_seen_at=now,
    )  # fmt: skip
    for hours, pending in ((48, 0), (24, 2), (1, 8)):
        DriveSample.objects.create(
            drive=drive, collected_at=now - dt.timedelta(hours=hours), assessment="passed"
            if pending == 0 else "warning", pending_sectors=pending, temperature_c=40,
        )  # fmt: skip
    ListeningPort.objects.create(
        device=nas, protocol="tcp", address="0.0.0.0", port=445, process="smbd",  # noqa: S104
        first_seen_at=now, last_seen_at=now, opened_at=now,
    )  # fmt: skip
    ListeningPort.objects.create(
        device=nas, protocol="tcp", address="127.0.0.1", port=5432, process="postgres",
        first_seen_at=now, last_seen_at=now, opened_at=now,
    )  # fmt: skip
    for hours, severity, type_, summary in (
        (30, Severity.INFO, "container.started", "nextcloud started"),
        (5, Severity.WARNING, "drive.warning", "WD-1234: pending sectors 0 -> 8"),
        (2, Severity.CRITICAL, "container.stopped", "nextcloud stopped (exit 137)"),
    ):
        Event.objects.create(
            device=web if type_.startswith("container") else nas,
            kind=EventKind.CONTAINER if type_.startswith("container") else EventKind.DRIVE,
            type=type_, severity=severity, summary=summary,
            occurred_at=now - dt.timedelta(hours=hours),
        )  # fmt: skip
    return Fleet(nas, web, drive)
