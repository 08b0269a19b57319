"""Logs read over real SSH: a test host whose `journalctl` serves the real captured journal (and
records its argv), whose `id` says whether the SSH user may read the system journal, and real log
files in a folder the test user can read. Every read is one audited Operation."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.models import Operation, OperationStatus, Trigger
from devices.logs import InvalidInput, LogRead, read_logs
from devices.models import Device
from devices.parsers.journal import JournalEntry
from tests.conftest import device_for
from tests.harness.sshd import SshdFactory
from tests.logs.journal_shim import (
    JOURNAL_OUTSIDER_ID,
    JOURNAL_READER_ID,
    JournalHost,
    journal_line,
)

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ACTOR = "user:alice"
UNIT = "medusa-GpsLocator.service"
LOGGED_AT = dt.datetime(2018, 8, 21, 14, 4, 21, 221373, tzinfo=dt.UTC)
LONGITUDE = "GPS Reference longitude: 7.358143333"
LATITUDE = "GPS Reference latitude: 46.908706667"
ASKED = ["--no-pager", "-q", "-o", "json", "-n"]  # how every journal read starts
APP_LOG = "".join(f"2026-11-25T10:00:{n:02d}Z app[42]: request {n} served\n" for n in range(50))


@pytest.fixture
def journal() -> Iterator[JournalHost]:
    host = JournalHost()
    yield host
    host.close()


@pytest.fixture
def journal_device(journal: JournalHost, sshd_factory: SshdFactory, client_key: Path) -> Device:
    host = sshd_factory(shims={"journalctl": journal.shim, "id": JOURNAL_READER_ID})
    return device_for(host, client_key)


@pytest.fixture
def log_dir() -> Iterator[Path]:
    """A folder the unprivileged SSH user can read (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="infra-logfiles-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_log(log_dir: Path) -> Path:
    path = log_dir / "app.log"
    path.write_text(APP_LOG)
    path.chmod(0o644)
    return path


@pytest.fixture
def file_device(sshd_factory: SshdFactory, client_key: Path) -> Device:
    return device_for(sshd_factory(), client_key)


def journal_read(device: Device, **given: Any) -> LogRead:
    return read_logs(device, "journal", actor=ACTOR, **given)


def file_read(device: Device, path: Path | str, **given: Any) -> LogRead:
    return read_logs(device, "file", actor=ACTOR, path=str(path), **given)


def messages(read: LogRead) -> list[str | None]:
    assert read.ok, (read.operation.error_type, read.operation.error)
    assert read.entries is not None
    return [entry.message for entry in read.entries]


# --- the journal --------------------------------------------------------------------------------


def test_a_journal_read_sends_each_filter_as_one_option_and_parses_the_entries(
    journal: JournalHost, journal_device: Device
) -> None:
    # when
    read = journal_read(journal_device, unit=UNIT, priority="err", since="2018-08-21 14:00 UTC",
                        grep="Reference longitude: 7.358", lines=5)  # fmt: skip
    # then journalctl got every value whole, the grep text escaped into a literal pattern
    assert journal.calls() == [[
        *ASKED, "5", f"--unit={UNIT}", "--priority=3", "--since=2018-08-21 14:00 UTC",
        "--grep=(?i)Reference\\ longitude\\:\\ 7\\.358",
    ]]  # fmt: skip
    assert read.ok and not read.truncated and read.lines is None and read.entries
    assert read.entries == [
        JournalEntry(timestamp=LOGGED_AT, unit=UNIT, priority=1, message=LONGITUDE,
                     hostname="imx6ul-medusa", pid=184, cursor=read.entries[0].cursor)
    ]  # fmt: skip
    # and the read is audited, with what was asked
    op = Operation.objects.get()
    assert op == read.operation
    assert (op.action, op.status, op.target, op.actor, op.trigger) == (
        "logs.journal", OperationStatus.OK, UNIT, ACTOR, Trigger.API,
    )  # fmt: skip
    assert op.arguments == {"unit": UNIT, "priority": 3, "since": "2018-08-21 14:00 UTC",
                            "grep": "Reference longitude: 7.358", "lines": 5}  # fmt: skip
    assert op.exit_code == 0 and op.error_type == ""


def test_without_filters_the_journal_read_asks_for_the_newest_200_entries(
    journal: JournalHost, journal_device: Device
) -> None:
    read = journal_read(journal_device)
    assert journal.calls() == [[*ASKED, "200"]]
    assert messages(read) == [LONGITUDE, LATITUDE]
    assert read.operation.target == "journal"
    body = read.as_json()
    assert (body["ok"], body["source"], body["count"], body["truncated"]) == (
        True, "journal", 2, False,
    )  # fmt: skip
    assert body["entries"][0]["timestamp"] == "2018-08-21T14:04:21.221373+00:00"
    assert body["entries"][0]["priority"] == 1 and body["error_type"] is None


def test_grep_matches_the_message_without_regard_to_case(journal_device: Device) -> None:
    assert messages(journal_read(journal_device, grep="LATITUDE")) == [LATITUDE]
    assert messages(journal_read(journal_device, grep="gps reference")) == [LONGITUDE, LATITUDE]


def test_a_grep_matching_nothing_is_an_empty_read_not_a_failure(
    journal: JournalHost, journal_device: Device
) -> None:
    # journalctl >= 243 exits 1 when --grep matched nothing, as grep does
    read = journal_read(journal_device, grep="altitude")
    assert journal.calls()[-1][-1] == "--grep=(?i)altitude"
    assert messages(read) == []
    assert read.operation.status == OperationStatus.OK and read.operation.error_type == ""


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"lines": 1}, [LATITUDE]), ({"priority": "alert"}, [LONGITUDE]),
     ({"priority": 6}, [LONGITUDE, LATITUDE]), ({"unit": "medusa-*"}, [LONGITUDE, LATITUDE]),
     ({"unit": "sshd.service"}, []), ({"since": "2018-08-21 14:04:22 UTC"}, []),
     ({"since": "-1h"}, []), ({"since": "@1534860261"}, [LONGITUDE, LATITUDE])],
)  # fmt: skip
def test_the_journals_own_filters_choose_the_entries(
    journal_device: Device, given: dict[str, Any], expected: list[str]
) -> None:
    assert messages(journal_read(journal_device, **given)) == expected


def test_a_journal_over_the_byte_cap_keeps_its_newest_entries(
    journal: JournalHost, journal_device: Device, settings: Any
) -> None:
    # given 30 entries derived from the capture, about 1.3 kB each
    start = 1_764_064_800_000_000  # 2025-11-25 10:00 UTC, in µs
    entries = [journal_line(MESSAGE=f"fix {n:02d}", __REALTIME_TIMESTAMP=str(start + n)) + "\n"
               for n in range(30)]  # fmt: skip
    journal.show("".join(entries))
    size = len(entries[-1].encode())  # every entry has the same length
    settings.LOG_MAX_BYTES = 4000
    # when
    read = journal_read(journal_device, lines=30)
    # then only whole entries came back, the newest ones, and the read says it was cut
    assert read.truncated
    kept = 4000 // size
    assert 1 < kept < 30
    assert messages(read) == [f"fix {n:02d}" for n in range(30 - kept, 30)]
    assert read.as_json()["truncated"] is True


def test_output_that_is_not_journal_json_fails_the_read_as_a_parse_error(
    journal: JournalHost, journal_device: Device
) -> None:
    journal.show("Aug 21 14:04:21 imx6ul-medusa python[184]: GPS Reference longitude\n")
    read = journal_read(journal_device, unit=UNIT)
    assert not read.ok and read.entries is None
    op = read.operation
    assert (op.status, op.error_type) == (OperationStatus.FAILED, "parse_error")
    assert op.error.startswith("journal: not a JSON object at line 1")
    assert "entries" not in read.as_json()


def test_a_user_outside_the_journal_groups_is_refused_not_shown_a_partial_journal(
    journal: JournalHost, sshd_factory: SshdFactory, client_key: Path
) -> None:
    # given an SSH user in no group that may read the system journal
    host = sshd_factory(shims={"journalctl": journal.shim, "id": JOURNAL_OUTSIDER_ID})
    device = device_for(host, client_key)
    # when
    read = journal_read(device, unit=UNIT)
    # then journalctl never ran, and the failure says why and what to do
    assert journal.calls() == []
    assert not read.ok and read.entries is None
    op = read.operation
    assert (op.action, op.status, op.error_type, op.exit_code) == (
        "logs.journal", OperationStatus.FAILED, "permission_denied", 77,
    )  # fmt: skip
    assert f"permission denied: {host.user} may not read the system journal" in op.error
    assert "systemd-journal or adm group" in op.error
    body = read.as_json()
    assert (body["ok"], body["error_type"]) == (False, "permission_denied")
    assert "entries" not in body and "count" not in body


def test_a_host_without_journalctl_fails_the_read_as_command_not_found(
    sshd_factory: SshdFactory, client_key: Path, ssh_user: str
) -> None:
    # given a host whose PATH has what the read's shell needs, but no journalctl anywhere
    # (this machine has one in /usr/bin: the session's shell gets a PATH of its own)
    tools = Path(tempfile.mkdtemp(prefix="infra-no-journal-"))
    try:
        tools.chmod(0o755)
        for tool in ("tr", "grep", "tail"):
            found = shutil.which(tool)
            assert found is not None
            (tools / tool).symlink_to(found)
        (tools / "id").write_text(JOURNAL_READER_ID)
        (tools / "id").chmod(0o755)
        only_tools = f'PATH={tools} exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
        host = sshd_factory(extra_config=f"Match User {ssh_user}\n    ForceCommand {only_tools}")
        device = device_for(host, client_key)
        # when
        read = journal_read(device)
    finally:
        shutil.rmtree(tools, ignore_errors=True)
    # then
    op = read.operation
    assert (op.status, op.error_type, op.exit_code) == (
        OperationStatus.FAILED, "command_not_found", 127,
    )  # fmt: skip
    assert op.error == "journalctl: command not found"


@pytest.mark.parametrize(
    ("given", "field"),
    [({"unit": "--output=export"}, "unit"), ({"unit": "x; touch /tmp/pwned"}, "unit"),
     ({"since": "$(reboot)"}, "since"), ({"priority": "3 --merge"}, "priority"),
     ({"grep": "x\n--merge"}, "grep"), ({"lines": "20 --merge"}, "lines"),
     ({"path": "/etc/shadow"}, "path")],
)  # fmt: skip
def test_a_hostile_value_never_reaches_the_device(
    journal: JournalHost, journal_device: Device, given: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        journal_read(journal_device, **given)
    assert refused.value.field == field
    assert journal.calls() == []
    assert not Operation.objects.exists()


# --- files --------------------------------------------------------------------------------------


def test_a_file_read_is_the_files_newest_lines_audited(
    file_device: Device, app_log: Path, settings: Any
) -> None:
    settings.LOG_FILES_ALLOWED = [str(app_log)]
    # when
    read = file_read(file_device, app_log, lines=3)
    # then
    assert read.ok and not read.truncated and read.entries is None
    assert read.lines == APP_LOG.splitlines()[-3:]
    op = read.operation
    assert (op.action, op.status, op.target, op.actor) == (
        "logs.file", OperationStatus.OK, str(app_log), ACTOR,
    )  # fmt: skip
    assert op.arguments == {"path": str(app_log), "grep": None, "lines": 3}
    assert read.as_json()["lines"] == read.lines and read.as_json()["count"] == 3


def test_grep_in_a_file_is_plain_text_in_any_case(
    file_device: Device, log_dir: Path, settings: Any
) -> None:
    path = log_dir / "daemon.log"
    path.write_text("ok: started\nERROR: disk full\nwarning: [x] retry\nError: disk.full again\n"
                    "error: diskXfull\n")  # fmt: skip
    path.chmod(0o644)
    settings.LOG_FILES_ALLOWED = [str(path)]
    assert file_read(file_device, path, grep="error").lines == [
        "ERROR: disk full", "Error: disk.full again", "error: diskXfull",
    ]  # fmt: skip
    # a dot, brackets or a leading dash are characters, not a pattern or an option
    assert file_read(file_device, path, grep="disk.full").lines == ["Error: disk.full again"]
    assert file_read(file_device, path, grep="[X]").lines == ["warning: [x] retry"]
    assert file_read(file_device, path, grep="-v").lines == []
    assert file_read(file_device, path, grep="error", lines=1).lines == ["error: diskXfull"]


def test_a_grep_matching_nothing_in_a_file_is_an_empty_read(
    file_device: Device, app_log: Path, settings: Any
) -> None:
    settings.LOG_FILES_ALLOWED = [str(app_log)]
    read = file_read(file_device, app_log, grep="timeout")
    assert read.ok and read.lines == []


@pytest.mark.parametrize(
    ("make", "error_type", "said"),
    [("missing", "not_found", "no such file"), ("directory", "not_a_regular_file",
      "not a regular file"), ("root-only", "permission_denied", "permission denied")],
)  # fmt: skip
def test_a_file_that_cannot_be_read_fails_with_a_typed_error(
    file_device: Device, log_dir: Path, settings: Any, make: str, error_type: str, said: str
) -> None:
    path = log_dir / f"{make}.log"
    if make == "directory":
        path.mkdir()
    elif make == "root-only":
        path.write_text("secret\n")
        path.chmod(0o600)  # the test process is root, the SSH user is not
    settings.LOG_FILES_ALLOWED = [str(path)]
    read = file_read(file_device, path)
    assert not read.ok and read.lines is None
    op = read.operation
    assert (op.action, op.status, op.error_type) == ("logs.file", OperationStatus.FAILED,
                                                     error_type)  # fmt: skip
    assert op.error == f"{path}: {said}"


def test_a_symlink_is_followed_when_named_but_refused_when_a_pattern_allows_it(
    file_device: Device, app_log: Path, log_dir: Path, settings: Any
) -> None:
    link = log_dir / "current.log"
    link.symlink_to(app_log)
    # when the symlink itself is in LOG_FILES_ALLOWED: someone chose it, it is read
    settings.LOG_FILES_ALLOWED = [str(link)]
    assert file_read(file_device, link, lines=1).lines == APP_LOG.splitlines()[-1:]
    # when only a pattern allows it: anyone writing in that folder could point it anywhere
    settings.LOG_FILES_ALLOWED = [f"{log_dir}/*.log"]
    refused = file_read(file_device, link)
    assert (refused.ok, refused.operation.error_type) == (False, "not_a_regular_file")
    assert refused.operation.error == f"{link}: a symbolic link (not followed)"
    # while the real file the pattern allows is read
    assert file_read(file_device, app_log, lines=2).lines == APP_LOG.splitlines()[-2:]


def test_a_file_over_the_byte_cap_keeps_its_newest_whole_lines(
    file_device: Device, app_log: Path, settings: Any
) -> None:
    settings.LOG_FILES_ALLOWED = [str(app_log)]
    settings.LOG_MAX_BYTES = 200
    read = file_read(file_device, app_log, lines=50)
    assert read.ok and read.truncated
    assert read.lines is not None
    newest = APP_LOG.splitlines()
    assert read.lines == newest[len(newest) - len(read.lines) :]
    assert sum(len(line) + 1 for line in read.lines) <= 200
    assert len(read.lines) == 200 // len(newest[-1] + "\n")
    # the same read under the cap is whole
    settings.LOG_MAX_BYTES = len(APP_LOG)
    whole = file_read(file_device, app_log, lines=50)
    assert (whole.truncated, whole.lines) == (False, newest)
    assert os.path.getsize(app_log) == len(APP_LOG)
