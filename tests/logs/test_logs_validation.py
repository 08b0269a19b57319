"""What devices.logs lets through to a device's shell, and how it cuts output to LOG_MAX_BYTES.

No SSH and no database: a value refused here never reaches `run_operation`. The byte cap's shell
wrapper runs in a local /bin/sh, the same POSIX shell a device runs it in.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import logs
from devices.logs import (
    DEFAULT_LINES,
    MAX_LINES,
    InvalidInput,
    read_logs,
    validated_grep,
    validated_lines,
    validated_path,
    validated_priority,
    validated_since,
    validated_unit,
)
from devices.models import Device
from tests.parser_kit import FUZZ

MARKER = "infra-logs-begin-0123456789abcdef"
ALLOWED = ["/var/log/syslog", "/var/log/libvirt/qemu/*.log", "/srv/app/app[0-9].log"]


def assert_refused_field(field: str, call: Any, *args: Any, **kwargs: Any) -> str:
    """Asserts that ``call`` raises InvalidInput naming ``field``; returns its message."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    assert caught.value.field == field, caught.value
    return str(caught.value)


@pytest.fixture
def allowed(settings: Any) -> list[str]:
    settings.LOG_FILES_ALLOWED = ALLOWED
    return ALLOWED


# --- lines --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "lines"),
    [(None, DEFAULT_LINES), ("", DEFAULT_LINES), ("1", 1), (20, 20), ("5000", MAX_LINES),
     ("007", 7)],
)  # fmt: skip
def test_lines_is_a_whole_number_from_1_to_5000_with_200_by_default(
    value: str | int | None, lines: int
) -> None:
    assert validated_lines(value) == lines


@pytest.mark.parametrize(
    "value", ["0", "5001", 0, -1, "-1", "+5", " 5", "5 ", "1e3", "2.0", "٣", "20;reboot", "--all"]
)
def test_lines_refuses_anything_else_naming_the_field(value: str | int) -> None:
    message = assert_refused_field("lines", validated_lines, value)
    assert "1 to 5000" in message


# --- unit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["sshd.service", "medusa-GpsLocator.service", "user@1000.service", "docker*",
     "ssh?.service", "systemd-fsck@dev-disk-by\\x2duuid-1234.service", "session-3.scope",
     "a" * 256],
)  # fmt: skip
def test_unit_takes_systemd_unit_names_and_globs(value: str) -> None:
    assert validated_unit(value) == value


def test_no_unit_is_none() -> None:
    assert validated_unit(None) is None and validated_unit("") is None


@pytest.mark.parametrize(
    "value",
    ["--foo", "-u", "-", "--unit=x", "a;rm -rf /", ";rm", "$(reboot)", "`id`", "a b", "a\nb",
     "a\x00b", "a/b", "'x'", "x|y", "x&", "[ab].service", "a" * 257, "ünit.service"],
)  # fmt: skip
def test_unit_refuses_options_shell_syntax_and_other_characters(value: str) -> None:
    message = assert_refused_field("unit", validated_unit, value)
    assert "systemd unit name" in message


# --- priority -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "level"),
    [("emerg", 0), ("err", 3), ("ERR", 3), (" warning ", 4), ("debug", 7), ("0", 0), (7, 7),
     ("6", 6), (None, None), ("", None)],
)  # fmt: skip
def test_priority_is_a_level_or_its_name(value: str | int | None, level: int | None) -> None:
    assert validated_priority(value) == level


@pytest.mark.parametrize(
    "value", ["8", 8, "-1", "10", "critical", "error", "3;", "0..3", "--priority=3", "3\n4"]
)
def test_priority_refuses_anything_else(value: str | int) -> None:
    message = assert_refused_field("priority", validated_priority, value)
    assert "0-7" in message and "emerg" in message


# --- since --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["today", "yesterday", "now", "@1534860261", "@0", "-1h", "-1h30min", "-2d", "-90s",
     "-1w2d3h4min", "2h ago", "10min ago", "2026-11-25", "2026-11-25 10:00",
     "2026-11-25 10:00:59", "2026-11-25 10:00 UTC", "2024-02-29 23:59:59 UTC"],
)  # fmt: skip
def test_since_takes_keywords_epochs_relative_times_and_dates(value: str) -> None:
    assert validated_since(value) == value


def test_no_since_is_none() -> None:
    assert validated_since(None) is None and validated_since("") is None


@pytest.mark.parametrize(
    "value",
    ["2026-13-45", "2026-02-30", "2025-02-29", "2026-11-25 25:00", "2026-11-25 10:99",
     "2026-11-25 10:00:61", "2026-11-25T10:00", "2026-11-25 10:00 CET", "-1x", "1h", "-1h ",
     "-1h\n", "+1h", "tomorrow", "TODAY", "--since=today", "--foo", "$(date)", "today;reboot",
     "@123456789012", "@-1", "-1h1h1h1h1h", "-", "1h ago;id"],
)  # fmt: skip
def test_since_refuses_what_journalctl_might_read_otherwise(value: str) -> None:
    message = assert_refused_field("since", validated_since, value)
    assert "YYYY-MM-DD" in message


# --- grep ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["error", "--foo", "$(rm -rf /)", "a'b\"c", "ünïcødé ✓", "x" * 200, "[.*]"]
)
def test_grep_is_any_printable_text_kept_as_given(value: str) -> None:
    # quoted (and escaped for journalctl) where it is used: nothing in it is syntax
    assert validated_grep(value) == value


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "tab\there", "nul\x00", "del\x7f", "x" * 201])
def test_grep_refuses_control_characters_and_long_text(value: str) -> None:
    message = assert_refused_field("grep", validated_grep, value)
    assert "200 printable characters" in message


def test_no_grep_is_none() -> None:
    assert validated_grep(None) is None and validated_grep("") is None


# --- path ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "by_pattern"),
    [("/var/log/syslog", False), ("/var/log/libvirt/qemu/vm-1.log", True),
     ("/var/log/libvirt/qemu/win11@host.log", True), ("/srv/app/app7.log", True)],
)  # fmt: skip
def test_a_path_is_allowed_exactly_or_by_a_pattern(
    allowed: list[str], value: str, by_pattern: bool
) -> None:
    assert validated_path(value) == (value, by_pattern)


@pytest.mark.parametrize(
    "value",
    ["/var/log/libvirt/qemu/sub/vm.log",  # `*` does not cross a `/`
     "/var/log/libvirt/qemu/vm.log.1", "/var/log/libvirt/vm.log", "/srv/app/app10.log",
     "/srv/app/appx.log", "/etc/shadow", "/var/log/syslog.1", "/var/log/auth.log",
     "/var/log/sysloG"],
)  # fmt: skip
def test_a_path_not_in_log_files_allowed_is_refused(allowed: list[str], value: str) -> None:
    message = assert_refused_field("path", validated_path, value)
    assert message == f"{value} is not in LOG_FILES_ALLOWED"


@pytest.mark.parametrize(
    "value",
    ["var/log/syslog", "syslog", "/var/log/../log/syslog", "/var/log/./syslog",
     "/var/log/libvirt/qemu/../../../../etc/passwd.log", "/var/log//syslog", "/var/log/syslog/",
     "/var/log/syslog\n", "/var/log/sys log", "/var/log/syslog;rm -rf /", "/var/log/$(id)",
     "/var/log/`id`", "/var/log/libvirt/qemu/*.log", "/var/log/sys?og", "/var/log/~",
     "-/var/log/syslog", "/var/log/" + "x" * 1020],
)  # fmt: skip
def test_a_path_that_is_not_a_plain_absolute_path_is_refused(
    allowed: list[str], value: str
) -> None:
    message = assert_refused_field("path", validated_path, value)
    assert "absolute path without . or .." in message


def test_a_file_read_needs_a_path(allowed: list[str]) -> None:
    assert assert_refused_field("path", validated_path, None) == "path is required for file logs"
    assert assert_refused_field("path", validated_path, "") == "path is required for file logs"


# --- read_logs' own checks (before anything is run) ---------------------------------------------

NOWHERE = Device(name="unsaved", address="192.0.2.1")  # never saved, never reached


@pytest.mark.parametrize(
    ("source", "given", "field"),
    [("journal", {"path": "/var/log/syslog"}, "path"),
     ("journal", {"container": "web"}, "container"),
     ("file", {"path": "/var/log/syslog", "unit": "ssh.service"}, "unit"),
     ("file", {"path": "/var/log/syslog", "priority": "err"}, "priority"),
     ("file", {"path": "/var/log/syslog", "since": "today"}, "since"),
     ("container", {"container": "web", "unit": "x"}, "unit"),
     ("container", {"container": "web", "priority": 3}, "priority"),
     ("container", {"container": "web", "path": "/var/log/syslog"}, "path")],
)  # fmt: skip
def test_a_parameter_that_does_not_apply_to_the_source_is_refused(
    source: str, given: dict[str, Any], field: str
) -> None:
    message = assert_refused_field(field, read_logs, NOWHERE, source, actor="test", **given)
    assert message == f"{field} does not apply to {source} logs"


def test_an_unknown_source_is_refused() -> None:
    message = assert_refused_field("source", read_logs, NOWHERE, "syslog", actor="test")
    assert message == "source must be one of journal, file, container"


@pytest.mark.parametrize(
    ("given", "field"),
    [({"unit": "--foo"}, "unit"), ({"unit": "x;rm -rf /"}, "unit"), ({"priority": "9"}, "priority"),
     ({"since": "$(reboot)"}, "since"), ({"grep": "a\nb"}, "grep"), ({"lines": "0"}, "lines"),
     ({"lines": "20; id"}, "lines")],
)  # fmt: skip
def test_a_hostile_journal_parameter_is_refused_naming_it(
    given: dict[str, Any], field: str
) -> None:
    assert_refused_field(field, read_logs, NOWHERE, "journal", actor="test", **given)


def test_an_empty_parameter_counts_as_not_given() -> None:
    # path="" does not apply to the journal, but is not given either: the unit is what is wrong
    assert_refused_field("unit", read_logs, NOWHERE, "journal", actor="t", path="", unit="-x")


@pytest.mark.parametrize(
    ("given", "field"),
    [({"path": "/etc/shadow"}, "path"), ({"path": "/var/log/../../etc/shadow"}, "path"),
     ({}, "path"), ({"path": "/var/log/syslog", "grep": "x" * 201}, "grep"),
     ({"path": "/var/log/syslog", "lines": MAX_LINES + 1}, "lines")],
)  # fmt: skip
def test_a_file_read_is_refused_before_it_runs(
    allowed: list[str], given: dict[str, Any], field: str
) -> None:
    assert_refused_field(field, read_logs, NOWHERE, "file", actor="test", **given)


@pytest.mark.parametrize(
    ("name", "message"),
    [(None, "container is required for container logs"),
     ("", "container is required for container logs"),
     ("-web", "container must be a docker container name"),
     ("web;id", "container must be a docker container name"),
     ("../web", "container must be a docker container name")],
)  # fmt: skip
def test_a_container_read_needs_a_docker_container_name(name: str | None, message: str) -> None:
    refusal = assert_refused_field("container", read_logs, NOWHERE, "container", actor="test",
                                   container=name)  # fmt: skip
    assert refusal == message


# --- grep as journalctl's pattern ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern"),
    [("error", "(?i)error"), ("a.b", "(?i)a\\.b"), ("x$(y)", "(?i)x\\$\\(y\\)"),
     ("GPS Reference", "(?i)GPS\\ Reference"), ("ünï 7", "(?i)ünï\\ 7"), ("\\", "(?i)\\\\"),
     ("(?-i)X", "(?i)\\(\\?\\-i\\)X")],
)  # fmt: skip
def test_grep_text_becomes_a_pcre_pattern_matching_only_itself(text: str, pattern: str) -> None:
    assert logs._pcre_literal(text) == pattern


@FUZZ
@given(st.text(min_size=1, max_size=40))
def test_the_pattern_of_any_text_matches_that_text_in_any_case(text: str) -> None:
    # Python's re reads backslash-escaped ASCII punctuation as PCRE2 does: as the character
    pattern = re.compile(logs._pcre_literal(text))
    assert pattern.fullmatch(text)
    if text.isascii():
        assert pattern.fullmatch(text.swapcase())


def test_a_pattern_character_in_grep_text_is_no_wildcard() -> None:
    pattern = re.compile(logs._pcre_literal("a.c*"))
    assert pattern.search("xA.C*y") and not pattern.search("abcc")


# --- the byte cap -------------------------------------------------------------------------------


def run_capped(command: str) -> subprocess.CompletedProcess[str]:
    """`command` wrapped by logs._capped, run by a local POSIX shell."""
    return subprocess.run(
        ["/bin/sh", "-s"], input=logs._capped(command, MARKER), capture_output=True, text=True,
        check=False, timeout=30,
    )  # fmt: skip


def test_output_within_the_cap_comes_whole_after_the_marker(settings: Any) -> None:
    settings.LOG_MAX_BYTES = 1000
    done = run_capped("printf 'one\\ntwo\\n'")
    assert (done.returncode, done.stdout) == (0, f"{MARKER}\none\ntwo\n")
    assert logs._uncapped(done.stdout, MARKER) == (["one", "two"], False)


def test_output_over_the_cap_keeps_only_the_newest_whole_lines(settings: Any) -> None:
    settings.LOG_MAX_BYTES = 100
    done = run_capped("seq 1 1000")
    assert done.returncode == 0 and not done.stdout.startswith(MARKER)
    kept, truncated = logs._uncapped(done.stdout, MARKER)
    assert truncated
    assert kept == [str(n) for n in range(1000 - len(kept) + 1, 1001)]
    assert sum(len(line) + 1 for line in kept) <= 100 < sum(len(line) + 1 for line in kept) + 4


@pytest.mark.parametrize(
    ("command", "status"),
    [("false", 1), ("ls /nonexistent-dir", 2), ("sh -c 'echo out; exit 77'", 77)],
)
def test_the_commands_own_exit_status_comes_through_the_pipe(
    settings: Any, command: str, status: int
) -> None:
    settings.LOG_MAX_BYTES = 1000
    done = run_capped(command)
    assert done.returncode == status
    assert done.stdout.startswith(f"{MARKER}\n")


def test_the_capped_command_reads_no_stdin(settings: Any) -> None:
    # the script itself arrives on the shell's stdin: a command reading it would eat the rest
    settings.LOG_MAX_BYTES = 1000
    done = run_capped("cat")
    assert (done.returncode, done.stdout) == (0, f"{MARKER}\n")


def test_uncapped_without_the_marker_drops_the_partial_first_line(settings: Any) -> None:
    settings.LOG_MAX_BYTES = 1000
    assert logs._uncapped("ece of a line\nwhole\nnewest\n", MARKER) == (["whole", "newest"], True)
    assert logs._uncapped(f"{MARKER}\n", MARKER) == ([], False)
    assert logs._uncapped("", MARKER) == ([], True)


def test_uncapped_splits_at_newlines_only(settings: Any) -> None:
    settings.LOG_MAX_BYTES = 1000
    text = f"{MARKER}\nform\x0cfeed\nline\u2028sep\r\nlast"
    assert logs._uncapped(text, MARKER) == (["form\x0cfeed", "line\u2028sep\r", "last"], False)


@pytest.mark.parametrize(
    ("lines", "max_bytes", "kept"),
    [(["aaa", "bb", "c"], 5, ["bb", "c"]), (["aaa", "bb", "c"], 9, ["aaa", "bb", "c"]),
     (["aaa", "bb", "c"], 8, ["bb", "c"]), (["aaa", "bb", "c"], 1, []), ([], 10, []),
     (["é", "é"], 5, ["é"]), (["a", "long one", "b"], 4, ["b"])],
)  # fmt: skip
def test_newest_within_keeps_the_newest_lines_that_fit_in_bytes(
    lines: list[str], max_bytes: int, kept: list[str]
) -> None:
    # each line costs its UTF-8 bytes and a newline; an older line never jumps a newer one
    assert logs._newest_within(lines, max_bytes) == kept
