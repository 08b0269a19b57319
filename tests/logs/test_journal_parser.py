"""The `journalctl -o json` parser on the real capture (an i.MX6UL board's GPS service, in the
spaced-out JSON of older journalctl), on entries derived from it (the compact JSON of today's
journalctl, byte arrays, repeated and missing fields), and on what is not journal output."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.parsers.journal import JOURNAL_KIND, JournalEntry, parse_journal
from tests.logs.journal_shim import captured_journal, journal_line
from tests.parser_kit import (
    EMPTY,
    FUZZ,
    JUNK,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    shell_error,
    tokens_of,
)

CURSOR = (
    "s=e991dd5775894620914f2f7126aae6c1;i=372a;b=0dc874d3fbd44bdbb6fbcfaa27481492;"
    "m=24ea327;t=573f280a663fd;x=9ceeb77ef4331563"
)
LOGGED_AT = dt.datetime(2018, 8, 21, 14, 4, 21, 221373, tzinfo=dt.UTC)  # 1534860261221373 µs
LONGITUDE = "GPS Reference longitude: 7.358143333"
LATITUDE = "GPS Reference latitude: 46.908706667"


def only(line: str) -> JournalEntry:
    [entry] = parse_journal(line)
    return entry


# --- the capture -------------------------------------------------------------------------------


def test_the_captured_journal_gives_its_two_entries_oldest_first_in_utc() -> None:
    # when
    entries = parse_journal(captured_journal())
    # then
    assert entries[0] == JournalEntry(
        timestamp=LOGGED_AT,
        unit="medusa-GpsLocator.service",
        priority=1,
        message=LONGITUDE,
        hostname="imx6ul-medusa",
        pid=184,
        cursor=CURSOR,
    )
    assert [(e.priority, e.message) for e in entries] == [(1, LONGITUDE), (6, LATITUDE)]
    assert entries[1].cursor is not None and ";i=372b;" in entries[1].cursor
    assert entries[1].timestamp == LOGGED_AT and entries[1].timestamp.utcoffset() == dt.timedelta()


def test_the_compact_json_of_current_journalctl_reads_the_same() -> None:
    compact = "\n".join(
        json.dumps(json.loads(line), separators=(",", ":"))
        for line in captured_journal().splitlines()
    )
    assert compact != captured_journal()
    assert parse_journal(compact) == parse_journal(captured_journal())


def test_crlf_line_ends_and_blank_lines_between_entries_are_ignored() -> None:
    text = "\r\n\n".join(captured_journal().splitlines()) + "\r\n\n"
    assert [e.message for e in parse_journal(text)] == [LONGITUDE, LATITUDE]


NO_ENTRIES = {**EMPTY, "no-entries": "-- No entries --\n"}


@pytest.mark.parametrize("text", NO_ENTRIES.values(), ids=NO_ENTRIES.keys())
def test_no_output_or_journalctls_no_entries_line_is_no_entries(text: str) -> None:
    assert parse_journal(text) == []


# --- what journalctl does to values ------------------------------------------------------------


def test_a_message_that_is_not_utf8_comes_as_byte_values_and_is_decoded_with_replacement() -> None:
    latin1 = list("Température: 21°C".encode("latin-1"))
    assert only(journal_line(MESSAGE=latin1)).message == "Temp\ufffdrature: 21\ufffdC"


def test_a_message_with_control_characters_comes_as_utf8_byte_values() -> None:
    # journalctl writes a printable-but-for-escapes message (colour codes) as an array too
    coloured = list("\x1b[31mdisk füll\x1b[0m".encode())
    assert only(journal_line(MESSAGE=coloured)).message == "\x1b[31mdisk füll\x1b[0m"


def test_a_repeated_field_keeps_its_first_value_whether_text_or_bytes() -> None:
    assert only(journal_line(MESSAGE=["first", "second"])).message == "first"
    assert only(journal_line(MESSAGE=[[104, 105], "second"])).message == "hi"
    assert only(journal_line(_SYSTEMD_UNIT=["a.service", "b.service"])).unit == "a.service"


def test_a_message_too_large_to_show_is_null() -> None:
    assert only(journal_line(MESSAGE=json.loads("null"))).message is None


def test_an_entry_with_only_its_timestamp_has_every_other_field_empty() -> None:
    entry = only(json.dumps({"__REALTIME_TIMESTAMP": "0"}))
    assert entry == JournalEntry(
        timestamp=dt.datetime(1970, 1, 1, tzinfo=dt.UTC), unit=None, priority=None, message=None,
        hostname=None, pid=None, cursor=None,
    )  # fmt: skip


def test_without_a_unit_the_syslog_identifier_names_the_source() -> None:
    kernel = journal_line(_SYSTEMD_UNIT=None, SYSLOG_IDENTIFIER="kernel", _PID=None)
    entry = only(kernel)
    assert (entry.unit, entry.pid) == ("kernel", None)


def test_syslog_pid_stands_in_for_a_missing_pid() -> None:
    assert only(journal_line(_PID=None, SYSLOG_PID="4242")).pid == 4242


@pytest.mark.parametrize(
    ("fields", "priority", "pid"),
    [
        ({"PRIORITY": "8"}, None, 184),
        ({"PRIORITY": "-1"}, None, 184),
        ({"PRIORITY": "warning"}, None, 184),
        ({"PRIORITY": "7"}, 7, 184),
        ({"_PID": "abc"}, 1, None),
        ({"_PID": "12345678901"}, 1, None),
    ],
)
def test_values_an_application_got_wrong_become_null_not_a_failed_read(
    fields: dict[str, str], priority: int | None, pid: int | None
) -> None:
    entry = only(journal_line(**fields))
    assert (entry.priority, entry.pid, entry.message) == (priority, pid, LONGITUDE)


def test_line_separators_inside_a_message_do_not_split_the_entry() -> None:
    message = "one\u2028two\u0085three\x0cfour"
    assert only(journal_line(MESSAGE=message)).message == message


# --- what is not journal output ----------------------------------------------------------------

NOT_JOURNAL = {
    **JUNK,
    "shell-error": shell_error("journalctl"),
    "array": "[1, 2, 3]\n",
    "string": '"MESSAGE"\n',
    "truncated": captured_journal()[:300],
    "no-timestamp": journal_line(__REALTIME_TIMESTAMP=None),
    "negative-timestamp": journal_line(__REALTIME_TIMESTAMP="-5"),
    "text-timestamp": journal_line(__REALTIME_TIMESTAMP="yesterday"),
    "timestamp-out-of-range": journal_line(__REALTIME_TIMESTAMP="9" * 19),
    "number-value": journal_line(MESSAGE=5),
    "object-value": journal_line(MESSAGE={"text": "x"}),
    "boolean-bytes": journal_line(MESSAGE=[True, False]),
    "byte-out-of-range": journal_line(MESSAGE=[104, 256]),
    "negative-byte": journal_line(MESSAGE=[-1]),
    "nested-bytes-out-of-range": journal_line(MESSAGE=[[300], "x"]),
    "deeply-nested": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("text", NOT_JOURNAL.values(), ids=NOT_JOURNAL.keys())
def test_what_is_not_journal_output_is_a_parse_error_of_the_journal(text: str) -> None:
    error = assert_refused(parse_journal, JOURNAL_KIND, text)
    assert error.lineno == 1 and error.line is not None


def test_the_parse_error_names_the_offending_line_and_field() -> None:
    text = captured_journal() + journal_line(MESSAGE=7.5) + "\n"
    error = assert_refused(parse_journal, JOURNAL_KIND, text)
    assert error.lineno == 3
    assert "MESSAGE is neither a string, a byte array nor null" in str(error)


def test_a_number_written_as_a_number_is_refused_not_guessed() -> None:
    # journalctl writes every value as a string; a bare number means something else wrote this
    error = assert_refused(parse_journal, JOURNAL_KIND, '{"__REALTIME_TIMESTAMP": 1534860261}')
    assert "__REALTIME_TIMESTAMP" in str(error)


# --- any text ----------------------------------------------------------------------------------

TOKENS = tokens_of(
    ["{", "}", "[", "]", ",", ":", '"', "null", '"__REALTIME_TIMESTAMP"', '"MESSAGE"',
     '"PRIORITY"', '"_PID"', '"1534860261221373"', "255", "256", "-- No entries --", "\n"],
    st.integers(-300, 300).map(str),
)  # fmt: skip


@FUZZ
@given(arbitrary_text)
def test_any_text_parses_or_raises_a_journal_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_journal, JOURNAL_KIND, text)


@FUZZ
@given(mutated(captured_journal(), TOKENS))
def test_an_edited_capture_parses_or_raises_a_journal_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_journal, JOURNAL_KIND, text)
