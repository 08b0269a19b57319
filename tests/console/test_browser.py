"""Issue #6's acceptance: a real browser (Debian's headless Chromium, driven by Playwright) on a
real daphne serving the project's ASGI app against the test database, after real collections
over SSH. It logs in, sees the fleet overview and a device's charts drawn from collected data,
then a config file changes on the device, a collection runs, and the event appears on the open
pages without a reload. Screenshots go to TEST_ARTIFACTS_DIR (default: <repo>/test-artifacts).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from collectors.engine import collect
from collectors.models import CollectionRun, Event, RunStatus
from collectors.stream import publish
from devices.models import Device, SystemSample, WatchedPath
from tests.conftest import REPO, device_for
from tests.harness.daphne import Daphne, running_daphne
from tests.harness.sshd import SshdHost

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "console-pass-123"
TIMEOUT_MS = 20_000
# A chart's accessible name carries its figures.
ANY = re.compile(r".+")
FIGURES = re.compile(r"\(\d+ points, .*\)\. .*average .*, latest ")


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; on CI (CI set) its absence is a failure, elsewhere a skip."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run installs it")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def channel_prefix(settings: Any) -> str:
    """Our own channel-layer prefix, shared by this process (which collects and publishes) and
    daphne (which serves the sockets): nothing from another run on this Redis reaches the page."""
    default = settings.CHANNEL_LAYERS["default"]
    prefix = f"test-console-{secrets.token_hex(4)}"
    settings.CHANNEL_LAYERS = {
        "default": default | {"CONFIG": default["CONFIG"] | {"prefix": prefix}}
    }
    publish._down_until = 0.0
    return prefix


def _wait_for_http(url: str, server: Daphne, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"daphne exited:\n{server.output()}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback URL)
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it serves
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not answer within {timeout} s:\n{server.output()}")


@pytest.fixture
def daphne(transactional_db: None, channel_prefix: str, tmp_path: Path) -> Iterator[str]:
    """daphne on the test database, answering HTTP; yields its http:// base URL."""
    with running_daphne(channel_prefix, tmp_path / "daphne.log") as server:
        _wait_for_http(f"{server.http}/admin/login/", server)
        yield server.http
    _wait_for_sessions_to_end()


class Watched:
    """A config file on the device, in a folder the unprivileged SSH user reads."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="infra-console-"))
        self.root.chmod(0o755)
        self.path = self.root / "app.conf"
        self.write("listen 8080\nworkers 2\n")

    def write(self, text: str) -> None:
        self.path.write_text(text)
        self.path.chmod(0o644)


@pytest.fixture
def watched() -> Iterator[Watched]:
    folder = Watched()
    yield folder
    shutil.rmtree(folder.root, ignore_errors=True)


def poll(device: Device, kinds: list[str] | None = None) -> CollectionRun:
    run = collect(device, kinds, trigger="cli")
    assert run is not None
    assert run.status in (RunStatus.OK, RunStatus.PARTIAL), run.kind_results
    return run


def poll_beside_the_browser(device: Device, kinds: list[str]) -> list[Event]:
    """A poll, and the events it recorded, in a thread of its own. Playwright's sync API keeps an
    event loop in the test's thread: publishing to the stream (async_to_sync) refuses to run
    under it, and the ORM would open a connection per loop that nobody closes."""

    def run() -> list[Event]:
        try:
            started = poll(device, kinds).started_at
            return list(Event.objects.filter(device=device, occurred_at__gte=started))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def _wait_for_sessions_to_end(timeout: float = 10) -> None:
    """daphne's database session ends a moment after the process: the test database can only
    be flushed and dropped once it has."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.fixture
def collected(sshd_factory: Any, client_key: Path, watched: Watched) -> Device:
    """A device behind real sshd, polled three times (CPU and network rates need two polls),
    with a watched config file whose first version is its baseline."""
    host: SshdHost = sshd_factory()
    device = device_for(host, client_key, name="garage-server")
    WatchedPath.objects.create(device=device, pattern=str(watched.path))
    poll(device, ["capabilities", "os-release"])
    for _ in range(3):
        poll(device)
        time.sleep(1.1)  # samples one second apart at least: one poll per collected_at
    assert SystemSample.objects.filter(device=device, cpu_pct__isnull=False).exists()
    assert not Event.objects.filter(type="config.changed").exists()
    return device


def test_the_console_shows_collected_data_and_a_new_event_live(
    chromium: Path,
    collected: Device,
    daphne: str,
    watched: Watched,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    User.objects.create_superuser("ada", "ada@example.org", PASSWORD)
    shots = artifacts_dir()
    device = collected
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)

            # given a logged-in admin on the fleet overview
            page.goto(f"{daphne}/admin/login/?next=/admin/")
            page.get_by_label("Username").fill("ada")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
            row = page.locator(f'tr[data-device-row="{device.pk}"]')
            expect(row).to_contain_text("garage-server")
            expect(row).to_contain_text("Online")
            expect(page.locator("#console-live")).to_have_attribute("data-state", "live")
            expect(page.locator("#console-live")).to_contain_text("Live")
            page.screenshot(path=str(shots / "console-overview.png"), full_page=True)

            # when they open the device's page
            row.get_by_role("link", name="garage-server", exact=True).click()
            expect(page.get_by_role("heading", name="Latest values")).to_be_visible()
            # then its charts are drawn from the collected samples
            for key in ("cpu", "memory", "load"):
                chart = page.locator(f"svg#chart-{key}")
                expect(chart).to_have_attribute("role", "img")
                expect(chart).to_have_attribute("aria-label", FIGURES)
                assert chart.locator("polyline, circle").count() >= 1
            expect(page.locator("#chart-resolution")).to_have_text("raw samples")
            expect(page.locator("#console-live")).to_have_attribute("data-state", "live")
            page.screenshot(path=str(shots / "console-device.png"), full_page=True)

            # and "What changed?" is open in a second tab
            changes = context.new_page()  # the same session
            changes.set_default_timeout(TIMEOUT_MS)
            changes.goto(f"{daphne}/admin/changes/")
            expect(changes.locator("#console-live")).to_have_attribute("data-state", "live")

            # when the config file changes on the device and a collection runs
            page.evaluate("window.__notReloaded = true")
            sampled = page.locator('time[data-metric="time"]').get_attribute("datetime")
            watched.write("listen 9090\nworkers 2\n")
            recorded = poll_beside_the_browser(
                device, ["config-files", "proc-stat", "meminfo", "loadavg", "uptime"]
            )
            assert [e.type for e in recorded] == ["config.changed"]

            # then the event appears on the device's timeline, with its diff, without a reload
            live = page.locator("#timeline tbody tr[data-event-id]", has_text="changed")
            expect(live).to_have_count(1)
            expect(live).to_contain_text(str(watched.path))
            live.locator("summary").click()
            expect(live.locator(".diff-add")).to_have_text("+listen 9090")
            expect(live.locator(".diff-del")).to_have_text("-listen 8080")
            assert page.evaluate("window.__notReloaded") is True
            # and the latest values moved to the new poll
            polled = page.locator('time[data-metric="time"]')
            expect(polled).not_to_have_attribute("datetime", sampled or "")
            expect(page.locator(".console-summary [data-device-last-seen] time")).to_have_attribute(
                "datetime", polled.get_attribute("datetime") or ""
            )
            # and the charts were drawn again with the new poll's sample, in place
            expect(page.locator("#console-charts")).to_have_attribute("data-refreshed-at", ANY)
            expect(page.locator("#console-charts svg.console-chart")).to_have_count(6)
            assert page.evaluate("window.__notReloaded") is True
            page.screenshot(path=str(shots / "console-device-live-event.png"), full_page=True)
            # and on "What changed?"
            on_changes = changes.locator("#changes-events tbody tr", has_text="changed")
            expect(on_changes).to_have_count(1)
            expect(on_changes).to_contain_text("garage-server")
            changes.screenshot(path=str(shots / "console-changes-live-event.png"), full_page=True)
        finally:
            browser.close()
