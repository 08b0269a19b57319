"""Storing the config-files survey through the real engine on the local device, over real files
in a temporary folder: baselines, versions with diffs, events, masking, defaults and limits."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from collectors.engine import collect
from collectors.models import CollectionRun, Event, RunStatus
from containers.models import ComposeProject
from devices.configs import MASK, build_command
from devices.models import (
    ConfigContent,
    ConfigFile,
    ConfigVersion,
    Device,
    WatchedPath,
    WatchedPathSource,
)
from proxies.models import SwagInstance

pytestmark = pytest.mark.django_db

KIND = "config-files"
MINUS = "\u2212"


@pytest.fixture
def device(local_device: Device) -> Device:
    # Capabilities are not what these tests are about.
    local_device.capabilities_checked_at = timezone.now()
    local_device.save(update_fields=["capabilities_checked_at"])
    return local_device


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "etc" / "app"
    root.mkdir(parents=True)
    (root / "app.conf").write_text("listen 80\nworkers 4\n")
    (root / "other.conf").write_text("a\nb\nc\n")
    return root


def watch(device: Device, pattern: str, **extra: Any) -> WatchedPath:
    return WatchedPath.objects.create(device=device, pattern=pattern, **extra)


def poll(device: Device) -> CollectionRun:
    run = collect(device, [KIND], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    return run


def events(type_: str) -> list[Event]:
    return list(Event.objects.filter(type=type_).order_by("occurred_at", "pk"))


def file(path: Path) -> ConfigFile:
    return ConfigFile.objects.get(path=str(path))


def test_the_first_survey_is_a_baseline_then_changes_are_events(
    device: Device, folder: Path
) -> None:
    watch(device, f"{folder}/*.conf")
    # when first surveyed
    poll(device)
    # then both files are stored with a first version, without events
    assert ConfigFile.objects.count() == 2 and ConfigVersion.objects.count() == 2
    app = file(folder / "app.conf")
    assert app.status == "present" and app.content is not None
    assert app.content.content == "listen 80\nworkers 4\n" and app.versions.get().diff == ""
    assert not Event.objects.filter(kind="config").exists()
    assert WatchedPath.objects.get().last_surveyed_at is not None
    # when a file is edited, another added
    (folder / "app.conf").write_text("listen 8080\nworkers 4\nlog on\n")
    (folder / "new.conf").write_text("fresh\n")
    poll(device)
    # then
    [changed] = events("config.changed")
    assert changed.data["path"] == str(folder / "app.conf") and changed.device == device
    assert f"(+2 {MINUS}1 lines)" in changed.summary
    assert (changed.data["lines_added"], changed.data["lines_removed"]) == (2, 1)
    assert "-listen 80\n+listen 8080\n" in changed.data["diff"]
    latest = file(folder / "app.conf").versions.first()
    assert latest is not None and (latest.lines_added, latest.lines_removed) == (2, 1)
    assert latest.diff.startswith(f"--- a{folder}/app.conf\n+++ b{folder}/app.conf\n")
    assert "+log on\n" in latest.diff
    [created] = events("config.created")
    assert created.data["path"] == str(folder / "new.conf")
    # when nothing changes, nothing happens
    poll(device)
    assert ConfigVersion.objects.count() == 4 and Event.objects.filter(kind="config").count() == 2


def test_a_deleted_file_is_kept_with_its_history_and_comes_back_on_the_same_row(
    device: Device, folder: Path
) -> None:
    watch(device, f"{folder}/*.conf")
    poll(device)
    # when
    (folder / "other.conf").unlink()
    poll(device)
    # then
    [deleted] = events("config.deleted")
    assert deleted.data["path"] == str(folder / "other.conf")
    other = file(folder / "other.conf")
    assert other.status == "deleted" and other.removed_at is not None
    assert other.versions.count() == 1
    # when it comes back, changed
    (folder / "other.conf").write_text("a\nB\nc\n")
    poll(device)
    other.refresh_from_db()
    assert other.status == "present" and other.removed_at is None and other.versions.count() == 2
    assert [e.data["path"] for e in events("config.created")] == [str(folder / "other.conf")]
    assert not events("config.changed")


def test_a_binary_file_is_stored_and_diffed_as_binary(device: Device, folder: Path) -> None:
    (folder / "blob.conf").write_bytes(b"\x00\x01")
    watch(device, f"{folder}/blob.conf")
    poll(device)
    (folder / "blob.conf").write_bytes(b"\x00\x02")
    poll(device)
    [changed] = events("config.changed")
    assert "binary file changed" in changed.summary and changed.data["binary"] is True
    blob = file(folder / "blob.conf")
    assert blob.content is not None and blob.content.binary and blob.content.content == "AAI="
    assert blob.versions.first().diff == "binary file changed"  # type: ignore[union-attr]


def test_secrets_are_masked_before_storing_but_changes_are_seen(
    device: Device, folder: Path, settings: Any
) -> None:
    settings.CONFIG_STORE_SECRETS = False
    env = folder / "app.env"
    env.write_text("USER=bob\nPASSWORD=hunter2\n")
    watch(device, str(env))
    poll(device)
    stored = file(env)
    assert stored.content is not None and stored.content.masked
    assert stored.content.content == f"USER=bob\nPASSWORD={MASK}\n"
    # the hash is the real file's
    assert stored.sha256 == hashlib.sha256(env.read_bytes()).hexdigest() == stored.content.sha256
    # when only the password changes
    env.write_text("USER=bob\nPASSWORD=hunter3\n")
    poll(device)
    [changed] = events("config.changed")
    assert "only masked secret values changed" in changed.summary
    assert "hunter" not in str(changed.data) and file(env).versions.count() == 2
    assert not ConfigContent.objects.filter(content__contains="hunter").exists()


def test_with_store_secrets_the_raw_content_is_kept(
    device: Device, folder: Path, settings: Any
) -> None:
    settings.CONFIG_STORE_SECRETS = True
    env = folder / "app.env"
    env.write_text("PASSWORD=hunter2\n")
    watch(device, str(env))
    poll(device)
    content = file(env).content
    assert content is not None and content.content == "PASSWORD=hunter2\n" and not content.masked


def test_a_file_over_the_limit_is_followed_by_hash_until_the_limit_allows_it(
    device: Device, folder: Path
) -> None:
    (folder / "big.conf").write_text("x" * 2000 + "\n")
    watched = watch(device, f"{folder}/big.conf", max_size_bytes=1000)
    run = poll(device)
    big = file(folder / "big.conf")
    assert big.sha256 and big.size_bytes == 2001 and big.content is None
    assert "content not fetched" in big.error and not big.versions.exists()
    assert any("over the limit of 1000" in n for n in run.kind_results[KIND]["notes"])
    # a change is still seen, by hash
    (folder / "big.conf").write_text("y" * 2000 + "\n")
    poll(device)
    [changed] = events("config.changed")
    assert "over the size limit" in changed.summary
    # when the limit is raised, the content comes
    watched.max_size_bytes = 10_000
    watched.save()
    poll(device)
    big.refresh_from_db()
    assert big.content is not None and big.error == "" and big.versions.count() == 1


def test_identical_contents_are_kept_once(device: Device, folder: Path) -> None:
    (folder / "copy.conf").write_text("listen 80\nworkers 4\n")
    watch(device, f"{folder}/*.conf")
    poll(device)
    assert ConfigFile.objects.count() == 3 and ConfigContent.objects.count() == 2


def test_compose_files_and_swag_confs_are_watched_by_default(
    device: Device, tmp_path: Path
) -> None:
    # given a Compose project as `docker compose ls` reported it, and a SWAG instance
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    confs = tmp_path / "swag" / "nginx" / "proxy-confs"
    confs.mkdir(parents=True)
    (confs / "web.subdomain.conf").write_text("server {}\n")
    (confs / "x.subdomain.conf.sample").write_text("server {}\n")
    now = timezone.now()
    ComposeProject.objects.create(device=device, name="stack", first_seen_at=now,
                                  last_seen_at=now, config_files=[str(stack / "compose.yaml")],
                                  )  # fmt: skip
    SwagInstance.objects.create(device=device, config_path=str(tmp_path / "swag"))
    # when
    poll(device)
    # then
    defaults = WatchedPath.objects.filter(source=WatchedPathSource.DEFAULT)
    assert sorted(w.pattern for w in defaults) == [
        str(stack / "compose.yaml"), f"{tmp_path}/swag/nginx/proxy-confs/*.conf",
    ]  # fmt: skip
    assert sorted(f.path for f in ConfigFile.objects.all()) == [
        str(stack / "compose.yaml"), str(confs / "web.subdomain.conf"),
    ]  # fmt: skip
    # when the SWAG default is disabled, it is not surveyed any more (its files stay)
    defaults.filter(pattern__endswith="*.conf").update(enabled=False)
    assert "proxy-confs/*.conf" not in build_command(device)
    (confs / "web.subdomain.conf").unlink()
    poll(device)
    assert not events("config.deleted")
