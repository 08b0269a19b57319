"""Shared fixtures: the cast of API users, devices on real sshd hosts, a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from collectors.kinds import Kind, registry
from devices.models import AuthMethod, Device, Transport
from infrastructor.models import ApiToken, Scope
from tests.harness.sshd import SshdHost

pytest_plugins = ["tests.harness.fixtures"]

REPO = Path(__file__).resolve().parent.parent


# --- the cast: an operator, a viewer and an outsider ------------------------------------------


@pytest.fixture
def operator_user(db: None) -> User:
    return User.objects.create_user("olivia", password="operator-pass-123", is_staff=True)


@pytest.fixture
def viewer_user(db: None) -> User:
    return User.objects.create_user("victor", password="viewer-pass-123")


def _client_with_token(user: User, scope: str) -> APIClient:
    _, clear = ApiToken.issue(user=user, name=f"{scope}-token", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    return client


@pytest.fixture
def operator_client(operator_user: User) -> APIClient:
    return _client_with_token(operator_user, Scope.OPERATOR)


@pytest.fixture
def viewer_client(viewer_user: User) -> APIClient:
    return _client_with_token(viewer_user, Scope.READ)


@pytest.fixture
def outsider_client() -> APIClient:
    return APIClient()


# --- devices ----------------------------------------------------------------------------------


@pytest.fixture
def local_device(db: None) -> Device:
    return Device.objects.create(
        name="local", address="localhost", transport=Transport.LOCAL, auth_method=AuthMethod.AGENT
    )


def device_for(host: SshdHost, key: Path, **extra: Any) -> Device:
    return Device.objects.create(
        **{
            "name": f"host-{host.port}",
            "address": host.address,
            "port": host.port,
            "username": host.user,
            "auth_method": AuthMethod.KEY_FILE,
            "key_path": str(key),
        }
        | extra
    )


@pytest.fixture
def ssh_device(db: None, sshd_host: SshdHost, client_key: Path) -> Device:
    return device_for(sshd_host, client_key)


def _keep_nothing(ctx: Any, facts: Any) -> None:
    """Store of test kinds: they exist to exercise the engine, not to keep data."""


@pytest.fixture
def extra_kind() -> Iterator[Callable[..., Kind]]:
    """Register throwaway kinds (real commands, real parsers) for one test."""
    added: list[str] = []

    def add(name: str, command: str, parser: Callable[[str], Any], **kw: Any) -> Kind:
        kw.setdefault("store", _keep_nothing)
        kind = Kind(name=name, command=command, parser=parser, description="test kind", **kw)
        registry.register(kind)
        added.append(name)
        return kind

    yield add
    for name in added:
        registry.unregister(name)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any) -> None:
    """Each test gets its own cache keys (throttle buckets, beat tick): nothing leaks between
    tests or runs, and a platform using the same Redis is neither read nor disturbed."""
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"KEY_PREFIX": f"infra-test-{uuid.uuid4().hex}"}
    }


@pytest.fixture(autouse=True)
def _fresh_ssh_pool() -> Iterator[None]:
    """Connections kept open by one test must not serve the next one's device with the same id."""
    from collectors.transports.ssh import pool

    yield
    pool.close_all()


# --- a real Celery worker ---------------------------------------------------------------------


class WorkerProcess:
    def __init__(self, site: str, queue: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.site = site
        self.queue = queue
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def celery_worker(transactional_db: None, tmp_path: Path, settings: Any) -> Iterator[WorkerProcess]:
    """A real `celery worker` process on the test database, consuming one site's queue only (so a
    platform running on the same machine never takes our tasks, nor we its). Devices whose site
    is `worker.site` are collected by it."""
    site = f"test-{uuid.uuid4().hex[:8]}"
    settings.SITE_QUEUES = [site]
    queue = f"{settings.SITE_QUEUE_PREFIX}{site}"
    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "infrastructor.settings",
        "SSH_COMMAND_TIMEOUT": str(settings.SSH_COMMAND_TIMEOUT),
        "LOG_DIR": "",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "infrastructor", "worker", "--pool", "threads",
             "--concurrency", "4", "-Q", queue, "--hostname", f"{site}@%h", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = WorkerProcess(site, queue, proc, log)
    try:
        _wait_for_worker(worker)
        yield worker
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_worker(worker: WorkerProcess, timeout: float = 30.0) -> None:
    from infrastructor.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            raise RuntimeError(f"celery worker exited:\n{worker.output()}")
        replies = app.control.ping(
            destination=[f"{worker.site}@{os.uname().nodename}"], timeout=0.5
        )
        if replies:
            return
    raise RuntimeError(f"celery worker did not answer within {timeout} s:\n{worker.output()}")


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
