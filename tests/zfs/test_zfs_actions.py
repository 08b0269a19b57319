"""ZFS actions: names checked before anything runs, then snapshot, destroy, scrub and diff over
real SSH against `zfs`/`zpool` shims that record every argv they get."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from collectors.engine import collect
from collectors.models import Operation, RunStatus
from devices.models import Device
from tests.conftest import device_for
from tests.samples import sample
from zfs import services
from zfs.models import Dataset, Pool, Snapshot

# --- names and commands, no device ------------------------------------------------------------

HOSTILE_LABELS = [
    "x; rm -rf /", "-r", "-rf", "$(reboot)", "`id`", "a b", "a@b", "a/b", "a#b", ".", "..",
    "a\nb", "a\x00b", "x" * 201, "'quoted'", "é",
]  # fmt: skip


def test_a_snapshot_command_puts_the_quoted_name_after_the_options() -> None:
    assert services.snapshot_command("tank/home@a", recursive=False) == (
        "zfs snapshot -- tank/home@a"
    )
    assert services.snapshot_command("tank/my data@x:1", recursive=True) == (
        "zfs snapshot -r -- 'tank/my data@x:1'"
    )


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_hostile_snapshot_names_are_refused(label: str) -> None:
    with pytest.raises(services.InvalidInput) as caught:
        services.validated_new_label(label)
    assert caught.value.field == "name"


@pytest.mark.parametrize("label", ["daily", "before-upgrade", "auto_2026-11-25_10:00", "v1.2"])
def test_ordinary_snapshot_names_are_accepted(label: str) -> None:
    assert services.validated_new_label(label) == label


def test_a_missing_snapshot_name_is_infra_and_the_utc_time() -> None:
    before = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
    label = services.validated_new_label(None)
    assert re.fullmatch(r"infra-\d{8}-\d{6}", label)
    stamp = dt.datetime.strptime(label, "infra-%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
    assert before <= stamp <= timezone.now()
    assert re.fullmatch(r"infra-\d{8}-\d{6}", services.validated_new_label(""))


@pytest.mark.parametrize("value", [123, ["a"], {"a": 1}])
def test_a_snapshot_name_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(services.InvalidInput):
        services.validated_new_label(value)


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), (None, False), ("true", True),
                            ("0", False), ("FALSE", False)],
)  # fmt: skip
def test_recursive_is_a_plain_boolean(value: object, expected: bool) -> None:
    assert services.validated_flag(value, "recursive") is expected


@pytest.mark.parametrize("value", ["-r", "maybe", 1, "true; reboot"])
def test_recursive_that_is_not_a_boolean_is_refused(value: object) -> None:
    with pytest.raises(services.InvalidInput) as caught:
        services.validated_flag(value, "recursive")
    assert caught.value.field == "recursive"


@pytest.mark.parametrize(
    "name",
    [
        "tank/home", "tank", "tank/home@a@b", "@a", "tank/home@", "tank/home@x; rm -rf /",
        "pool/ds@x; rm -rf /", "-r@x", "-rf tank@x", "tank/../etc@x", "tank//x@a",
        "tank/home@$(reboot)", "tank/home@a\nzfs destroy -r tank", "tank/home#bookmark",
        "tank/" + "x" * 260 + "@a",
    ],
)  # fmt: skip
def test_destroy_refuses_anything_but_one_snapshot_name(name: str) -> None:
    with pytest.raises(services.InvalidInput):
        services.destroy_command(name)


def test_destroy_is_never_recursive_and_quotes_the_snapshot() -> None:
    assert services.destroy_command("tank/home@daily") == "zfs destroy -- tank/home@daily"
    assert services.destroy_command("tank/my home@a b") == "zfs destroy -- 'tank/my home@a b'"


@pytest.mark.parametrize("name", ["-f", "1tank", "tank; reboot", "tank/home", "$(id)", ""])
def test_a_scrub_refuses_what_is_not_a_pool_name(name: str) -> None:
    with pytest.raises(services.InvalidInput) as caught:
        services.scrub_command(name)
    assert caught.value.field == "pool"


def test_a_scrub_names_its_pool_after_the_options() -> None:
    assert services.scrub_command("tank") == "zpool scrub -- tank"


def test_a_diff_asks_for_types_and_times_and_caps_its_lines_on_the_device() -> None:
    command = services.diff_command("tank/home@a", "tank/home@b")
    assert "zfs diff -FHt -- tank/home@a tank/home@b;" in command
    assert services.DIFF_MAX_CHANGES == 5000
    assert "head -n 5001" in command
    with pytest.raises(services.InvalidInput) as caught:
        services.diff_command("tank/home@a", "tank/home")
    assert caught.value.field == "other"


@pytest.mark.parametrize(
    ("zfs", "exit_code", "lines"),
    [
        # endless output: head stops it (zfs dies of SIGPIPE), which is not a failure
        ('exec yes "1685100000.000000001\tM\tF\t/x"', 0, 5001),
        ('echo "1685100000.000000001\tM\tF\t/x"', 0, 1),
        ("echo \"cannot open 'tank/home@a': dataset does not exist\" >&2; exit 1", 1, 0),
    ],
)
def test_the_diff_command_exits_with_the_status_of_zfs_not_of_head(
    tmp_path: Path, zfs: str, exit_code: int, lines: int
) -> None:
    # given a `zfs` first on PATH, run by the same /bin/sh -s the transports use
    (tmp_path / "zfs").write_text(f"#!/bin/sh\n{zfs}\n")
    (tmp_path / "zfs").chmod(0o755)
    command = services.diff_command("tank/home@a", "tank/home@b")
    # when
    result = subprocess.run(
        ["/bin/sh", "-s"], input=command + "\n", capture_output=True, text=True, timeout=30,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    # then
    assert result.returncode == exit_code, result.stderr
    assert len(result.stdout.splitlines()) == lines


# --- checks against the stored rows, still no device reached ---------------------------------


@pytest.fixture
def unreachable_device(db: None) -> Device:
    """Nothing listens here: a check that let a command through would leave a failed
    Operation row, which the tests below look for."""
    return Device.objects.create(name="nowhere", address="127.0.0.1", port=1)


def _snapshot(device: Device, name: str, **extra: object) -> Snapshot:
    now = timezone.now()
    fields: dict[str, object] = {"first_seen_at": now, "last_seen_at": now, **extra}
    return Snapshot.objects.create(device=device, name=name, **fields)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["tank/home", "tank/home@a@b", "tank/home@x; rm -rf /"])
def test_destroying_a_row_that_is_not_one_snapshot_never_runs_anything(
    unreachable_device: Device, name: str
) -> None:
    row = _snapshot(unreachable_device, name)
    with pytest.raises(services.InvalidInput) as caught:
        services.destroy_snapshot(row, actor="test")
    assert caught.value.field == "snapshot"
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_a_removed_or_foreign_snapshot_cannot_be_destroyed(unreachable_device: Device) -> None:
    gone = _snapshot(unreachable_device, "tank/home@old", removed_at=timezone.now())
    with pytest.raises(services.InvalidInput):
        services.destroy_snapshot(gone, actor="test")
    # an object claiming another device than its row's
    row = _snapshot(unreachable_device, "tank/home@new")
    other = Device.objects.create(name="other", address="127.0.0.1", port=1)
    row.device_id = other.pk
    with pytest.raises(services.InvalidInput):
        services.destroy_snapshot(row, actor="test")
    assert not Operation.objects.exists()


@pytest.mark.django_db
def test_a_dataset_name_is_not_found_as_a_snapshot(unreachable_device: Device) -> None:
    _snapshot(unreachable_device, "tank/home@a")
    with pytest.raises(services.InvalidInput) as caught:
        services.find_snapshot(unreachable_device, "tank/home")
    assert "not a snapshot name" in str(caught.value)
    assert services.find_snapshot(unreachable_device, "tank/home@a").name == "tank/home@a"


@pytest.mark.django_db
def test_a_diff_needs_another_snapshot_of_the_same_dataset(unreachable_device: Device) -> None:
    a = _snapshot(unreachable_device, "tank/home@a")
    other_dataset = _snapshot(unreachable_device, "tank/media@b")
    for other in ("", str(a.pk), str(other_dataset.pk), "tank/home@missing", "tank/home", "²",
                  "9" * 30):  # fmt: skip
        with pytest.raises(services.InvalidInput) as caught:
            services.diff_snapshots(a, other, actor="test")
        assert caught.value.field == "other", other
    assert not Operation.objects.exists()


# --- over real SSH ----------------------------------------------------------------------------

SHIM = r"""#!/bin/sh
D=__DATA__
TOOL=__TOOL__
# One line per call, arguments separated by the unit separator (0x1f), so quoting is visible.
{ printf '%s\037' "$TOOL"; for a in "$@"; do printf '%s\037' "$a"; done; echo; } >> "$D/argv.log"
last() { for a in "$@"; do :; done; printf '%s' "$a"; }
fail() { [ -f "$D/fail" ] && { cat "$D/fail" >&2; exit 1; }; :; }
case "$TOOL $1" in
  "zfs list") if [ "$2" = "-H" ]; then echo zpool; else cat "$D/list.txt"; fi ;;
  "zfs snapshot") fail; printf '%s\tsnapshot\t0\t-\t4096\t-\t%s\n' "$(last "$@")" "$(date +%s)" \
      >> "$D/list.txt" ;;
  "zfs destroy") fail; awk -F'\t' -v n="$(last "$@")" '$1 != n' "$D/list.txt" > "$D/list.tmp"
      cat "$D/list.tmp" > "$D/list.txt" ;;
  "zfs diff") fail; cat "$D/diff.txt" ;;
  "zpool list") sed -n 's/^[[:space:]]*pool: //p' "$D/status.txt" ;;
  "zpool status") cat "$D/status.txt" ;;
  "zpool scrub") fail; cat "$D/status.after" > "$D/status.txt" ;;
  *) echo "$TOOL: unsupported $*" >&2; exit 2 ;;
esac
"""

LISTING = (
    "zpool\tfilesystem\t1048576\t9000000000\t98304\t/zpool\t1685000000\n"
    "zpool/vol1\tfilesystem\t262144\t9000000000\t32768\t/zpool/vol1\t1685000200\n"
    "zpool/media\tfilesystem\t262144\t9000000000\t32768\t/zpool/media\t1685000200\n"
    "zpool/vol1@monday\tsnapshot\t0\t-\t4096\t-\t1685000300\n"
    "zpool/vol1@tuesday\tsnapshot\t256\t-\t4096\t-\t1685100606\n"
    "zpool/media@monday\tsnapshot\t0\t-\t4096\t-\t1685000300\n"
)
T = "1685100000.000000001"
DIFF = (
    f"{T}\tM\t/\t/zpool/vol1\n"
    f"{T}\t+\tF\t/zpool/vol1/new\\0040file.txt\n"
    f"{T}\tR\tF\t/zpool/vol1/a\t/zpool/vol1/b\n"
)


def zse(name: str) -> str:
    """A zpool-status-exporter capture without its harness's first line (TEST_TIMESTAMP=...)."""
    return sample(f"zfs/zse_zpool_status_{name}.txt").split("\n", 1)[1]


class ZfsHost:
    """The data folder behind the `zfs` and `zpool` shims: what they print, what they were
    asked, and whether they fail."""

    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="infra-zfs-actions-"))
        os.chmod(self.data, 0o755)  # noqa: S103  (the unprivileged test user reads it)
        for name in ("argv.log", "list.tmp"):
            self.write(name, "")
        self.write("list.txt", LISTING)
        self.write("diff.txt", DIFF)
        self.write("status.txt", zse("new_pool_never_scanned"))
        # what `zpool status` says once the scrub started: the real capture, for our pool
        self.write("status.after", zse("scrub_in_progress").replace("neptune", "milton"))

    def shim(self, tool: str) -> str:
        return SHIM.replace("__DATA__", str(self.data)).replace("__TOOL__", tool)

    def write(self, name: str, text: str) -> None:
        path = self.data / name
        path.write_text(text)
        path.chmod(0o666)  # the shims run as the unprivileged test user and write some files

    def fail_with(self, stderr: str) -> None:
        self.write("fail", stderr)

    def calls(self) -> list[list[str]]:
        lines = (self.data / "argv.log").read_text().splitlines()
        return [line.split("\x1f")[:-1] for line in lines if line]

    def actions(self) -> list[list[str]]:
        """Calls other than the listings a collection makes."""
        return [c for c in self.calls() if c[1] not in ("list", "status")]


@pytest.fixture
def zfs_host() -> Iterator[ZfsHost]:
    host = ZfsHost()
    yield host
    shutil.rmtree(host.data, ignore_errors=True)


@pytest.fixture
def device(zfs_host: ZfsHost, sshd_factory, client_key: Path) -> Device:
    host = sshd_factory(shims={"zfs": zfs_host.shim("zfs"), "zpool": zfs_host.shim("zpool")})
    device = device_for(host, client_key)
    collect(device, ["capabilities"], trigger="cli")
    device.refresh_from_db()
    assert device.has_capability("zfs") and device.has_capability("zpool")
    run = collect(device, ["zfs-list", "zpool-status"], trigger="cli")
    assert run is not None
    assert run.status == RunStatus.OK, run.kind_results
    return device


def snap(name: str) -> Snapshot:
    return Snapshot.objects.get(name=name)


@pytest.mark.django_db
@pytest.mark.integration
def test_a_snapshot_is_taken_over_ssh_audited_and_listed_at_once(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient
) -> None:
    vol1 = Dataset.objects.get(name="zpool/vol1")
    # when
    response = operator_client.post(
        f"/api/zfs/datasets/{vol1.pk}/snapshot/",
        {"name": "before-upgrade", "recursive": True},
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ok"] and body["name"] == "zpool/vol1@before-upgrade"
    assert zfs_host.actions() == [["zfs", "snapshot", "-r", "--", "zpool/vol1@before-upgrade"]]
    assert body["snapshot"]["name"] == "zpool/vol1@before-upgrade"  # collected again already
    assert body["snapshot"]["dataset"] == vol1.pk
    op = Operation.objects.get(pk=body["operation"]["id"])
    assert op.action == "zfs.snapshot" and op.status == "ok" and op.trigger == "api"
    assert op.actor.startswith("token:") and "olivia" in op.actor
    assert op.arguments == {"dataset": "zpool/vol1", "name": "before-upgrade",
                            "recursive": True}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.integration
def test_a_snapshot_without_a_name_gets_the_default_one(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient
) -> None:
    vol1 = Dataset.objects.get(name="zpool/vol1")
    response = operator_client.post(f"/api/zfs/datasets/{vol1.pk}/snapshot/", {}, format="json")
    assert response.status_code == 201, response.json()
    ((tool, verb, dashdash, name),) = zfs_host.actions()
    assert (tool, verb, dashdash) == ("zfs", "snapshot", "--")
    assert re.fullmatch(r"zpool/vol1@infra-\d{8}-\d{6}", name)
    assert response.json()["name"] == name


@pytest.mark.django_db
@pytest.mark.integration
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x; rm -rf /"}, "name"), ({"name": "-r"}, "name"),
        ({"name": "$(reboot)"}, "name"), ({"name": "a@b"}, "name"), ({"name": 7}, "name"),
        ({"name": "x" * 201}, "name"), ({"recursive": "-r"}, "recursive"),
    ],
)  # fmt: skip
def test_hostile_snapshot_requests_are_400s_that_never_reach_the_device(
    zfs_host: ZfsHost,
    device: Device,
    operator_client: APIClient,
    body: dict[str, object],
    field: str,
) -> None:
    vol1 = Dataset.objects.get(name="zpool/vol1")
    response = operator_client.post(f"/api/zfs/datasets/{vol1.pk}/snapshot/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert zfs_host.actions() == []
    assert not Operation.objects.exists()


@pytest.mark.django_db
@pytest.mark.integration
def test_a_viewer_can_neither_snapshot_nor_destroy_nor_scrub(
    zfs_host: ZfsHost, device: Device, viewer_client: APIClient
) -> None:
    vol1 = Dataset.objects.get(name="zpool/vol1")
    pool = Pool.objects.get(name="milton")
    monday = snap("zpool/vol1@monday")
    assert viewer_client.post(f"/api/zfs/datasets/{vol1.pk}/snapshot/").status_code == 403
    assert viewer_client.delete(f"/api/zfs/snapshots/{monday.pk}/").status_code == 403
    assert viewer_client.post(f"/api/zfs/pools/{pool.pk}/scrub/").status_code == 403
    assert zfs_host.actions() == []
    assert not Operation.objects.exists()


@pytest.mark.django_db
@pytest.mark.integration
def test_destroying_a_snapshot_runs_exactly_that_and_marks_it_removed(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient
) -> None:
    monday = snap("zpool/vol1@monday")
    response = operator_client.delete(f"/api/zfs/snapshots/{monday.pk}/")
    assert response.status_code == 200, response.json()
    assert zfs_host.actions() == [["zfs", "destroy", "--", "zpool/vol1@monday"]]
    monday.refresh_from_db()
    assert monday.removed_at is not None
    assert response.json()["snapshot"]["removed_at"] is not None
    op = Operation.objects.get(action="zfs.destroy")
    assert op.target == "zpool/vol1@monday" and op.status == "ok" and "olivia" in op.actor
    # the dataset and the other snapshots are untouched
    assert Dataset.objects.get(name="zpool/vol1").removed_at is None
    assert snap("zpool/vol1@tuesday").removed_at is None


@pytest.mark.django_db
@pytest.mark.integration
@pytest.mark.parametrize(
    "name", ["zpool/vol1", "zpool", "zpool/vol1@a@b", "zpool/vol1@x; rm -rf /", "-r@x"]
)
def test_destroying_a_row_that_names_a_dataset_is_refused_without_any_remote_call(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient, name: str
) -> None:
    # given a row that a lying device (or a bug) stored as a "snapshot"
    row = _snapshot(device, name)
    before = zfs_host.calls()
    # when
    response = operator_client.delete(f"/api/zfs/snapshots/{row.pk}/")
    # then
    assert response.status_code == 400
    assert "snapshot" in response.json()
    assert zfs_host.calls() == before
    assert not Operation.objects.exists()


@pytest.mark.django_db
@pytest.mark.integration
def test_a_failed_destroy_is_a_502_with_the_operation_and_zfs_message(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient
) -> None:
    zfs_host.fail_with("cannot destroy snapshot zpool/vol1@monday: dataset is busy\n")
    monday = snap("zpool/vol1@monday")
    response = operator_client.delete(f"/api/zfs/snapshots/{monday.pk}/")
    assert response.status_code == 502
    body = response.json()
    assert body["ok"] is False
    assert body["operation"]["status"] == "failed" and body["operation"]["exit_code"] == 1
    assert "dataset is busy" in body["operation"]["error"]
    assert Operation.objects.get(pk=body["operation"]["id"]).action == "zfs.destroy"
    monday.refresh_from_db()
    assert monday.removed_at is None


@pytest.mark.django_db
@pytest.mark.integration
def test_a_scrub_starts_over_ssh_and_the_pool_shows_it(
    zfs_host: ZfsHost, device: Device, operator_client: APIClient
) -> None:
    pool = Pool.objects.get(name="milton")
    assert pool.scan is None  # never scrubbed
    response = operator_client.post(f"/api/zfs/pools/{pool.pk}/scrub/")
    assert response.status_code == 200, response.json()
    assert zfs_host.actions() == [["zpool", "scrub", "--", "milton"]]
    assert response.json()["pool"]["scan"]["function"] == "scrub"
    op = Operation.objects.get(action="zpool.scrub")
    assert op.target == "milton" and op.status == "ok" and op.actor.startswith("token:")


@pytest.mark.django_db
@pytest.mark.integration
def test_a_viewer_reads_a_diff_older_snapshot_first(
    zfs_host: ZfsHost, device: Device, viewer_client: APIClient
) -> None:
    # given the newer snapshot asked about, the older one as `other` (by name)
    tuesday = snap("zpool/vol1@tuesday")
    response = viewer_client.get(
        f"/api/zfs/snapshots/{tuesday.pk}/diff/", {"other": "zpool/vol1@monday"}
    )
    # then
    assert response.status_code == 200, response.json()
    assert zfs_host.actions() == [
        ["zfs", "diff", "-FHt", "--", "zpool/vol1@monday", "zpool/vol1@tuesday"]
    ]
    body = response.json()
    assert (body["from"], body["to"], body["truncated"]) == (
        "zpool/vol1@monday", "zpool/vol1@tuesday", False,
    )  # fmt: skip
    assert body["changes"][1] == {
        "change": "+", "file_type": "F", "path": "/zpool/vol1/new file.txt", "new_path": None,
        "link_delta": None, "changed_at": "2023-05-26T11:20:00+00:00",
    }  # fmt: skip
    assert body["changes"][2]["new_path"] == "/zpool/vol1/b"
    op = Operation.objects.get(pk=body["operation"])
    assert op.action == "zfs.diff" and op.status == "ok" and "victor" in op.actor


@pytest.mark.django_db
@pytest.mark.integration
def test_a_long_diff_is_cut_on_the_device_and_marked_truncated(
    zfs_host: ZfsHost, device: Device, viewer_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cap of 50 (5,000 in production) and a diff four times as long
    monkeypatch.setattr(services, "DIFF_MAX_CHANGES", 50)
    zfs_host.write("diff.txt", "".join(f"{T}\tM\tF\t/zpool/vol1/f{i}\n" for i in range(200)))
    monday = snap("zpool/vol1@monday")
    tuesday = snap("zpool/vol1@tuesday")
    response = viewer_client.get(f"/api/zfs/snapshots/{monday.pk}/diff/?other={tuesday.pk}")
    assert response.status_code == 200, response.json()["error"]
    body = response.json()
    assert body["truncated"] is True and len(body["changes"]) == 50
    assert body["changes"][-1]["path"] == "/zpool/vol1/f49"
    op = Operation.objects.get(pk=body["operation"])
    assert op.status == "ok"  # zfs stopped by head is the cut we asked for, not a failure


@pytest.mark.django_db
@pytest.mark.integration
def test_a_diff_that_zfs_refuses_or_garbles_is_a_502(
    zfs_host: ZfsHost, device: Device, viewer_client: APIClient
) -> None:
    monday = snap("zpool/vol1@monday")
    url = f"/api/zfs/snapshots/{monday.pk}/diff/?other=zpool/vol1@tuesday"
    zfs_host.write("diff.txt", "<html>502 Bad Gateway</html>\n")
    garbled = viewer_client.get(url)
    assert garbled.status_code == 502
    assert garbled.json()["error"].startswith("zfs-diff:")
    zfs_host.fail_with("Cannot diff an unmounted snapshot\n")
    refused = viewer_client.get(url)
    assert refused.status_code == 502
    assert "unmounted" in refused.json()["error"]
    assert Operation.objects.get(pk=refused.json()["operation"]).status == "failed"


@pytest.mark.django_db
@pytest.mark.integration
@pytest.mark.parametrize(
    "other", ["", "zpool/media@monday", "zpool/vol1", "zpool/vol1@x;reboot", "zpool/vol1@nope"]
)
def test_a_diff_with_a_bad_other_is_a_400_without_any_remote_call(
    zfs_host: ZfsHost, device: Device, viewer_client: APIClient, other: str
) -> None:
    monday = snap("zpool/vol1@monday")
    response = viewer_client.get(f"/api/zfs/snapshots/{monday.pk}/diff/", {"other": other})
    assert response.status_code == 400
    assert "other" in response.json()
    assert zfs_host.actions() == []


@pytest.mark.django_db
@pytest.mark.integration
def test_the_admin_starts_a_scrub_and_takes_a_snapshot_audited_as_the_user(
    zfs_host: ZfsHost, device: Device, admin_client
) -> None:
    pool = Pool.objects.get(name="milton")
    response = admin_client.post(
        "/admin/zfs/pool/", {"action": "start_scrub", "_selected_action": [pool.pk]}, follow=True
    )
    notes = [m.message for m in response.context["messages"]]
    assert notes and notes[0].startswith("scrub of milton on ") and "done" in notes[0]
    dataset = Dataset.objects.filter(device=device, removed_at__isnull=True).order_by("name")[0]
    admin_client.post(
        "/admin/zfs/dataset/", {"action": "snapshot_now", "_selected_action": [dataset.pk]}
    )
    actions = zfs_host.actions()
    assert actions[0] == ["zpool", "scrub", "--", "milton"]
    assert actions[1][:3] == ["zfs", "snapshot", "--"]
    assert actions[1][3].startswith(f"{dataset.name}@infra-")
    ops = Operation.objects.order_by("pk")
    assert [(o.action, o.trigger, o.actor) for o in ops] == [
        ("zpool.scrub", "admin", "user:admin"),
        (ops[1].action, "admin", "user:admin"),
    ]
