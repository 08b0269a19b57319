"""The `zfs diff -FHt` parser: every change type, ZFS's octal escapes, bad input and fuzzing.

No capture of `zfs diff` is in the shared samples; the lines below follow libzfs_diff.c's
printf formats (`%10lld.%09lld\\t`, `%c\\t`, `\\t(%+d)`, `\\\\%04hho` and the older `\\\\%03o`).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.parser_kit import (
    FUZZ,
    JUNK,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    plausible_lines,
    shell_error,
    tokens_of,
)
from zfs.parsers import ZFS_DIFF_KIND, DiffChange, parse_zfs_diff

T = "1700000000.123456789"
WHEN = dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.UTC)

OUTPUT = (
    f"{T}\tM\t/\t/tank/home\n"
    f"{T}\t+\tF\t/tank/home/new.txt\n"
    f"{T}\t-\t@\t/tank/home/old-link\n"
    f"{T}\tR\tF\t/tank/home/a.txt\t/tank/home/b.txt\n"
    f"{T}\tM\tF\t/tank/home/linked\t(+1)\n"
    f"{T}\tM\tF\t/tank/home/unlinked\t(-2)\n"
)


def test_each_change_type_is_read_with_its_file_type_and_time() -> None:
    changes = parse_zfs_diff(OUTPUT)
    assert changes == [
        DiffChange("M", "/", "/tank/home", None, None, WHEN),
        DiffChange("+", "F", "/tank/home/new.txt", None, None, WHEN),
        DiffChange("-", "@", "/tank/home/old-link", None, None, WHEN),
        DiffChange("R", "F", "/tank/home/a.txt", "/tank/home/b.txt", None, WHEN),
        DiffChange("M", "F", "/tank/home/linked", None, 1, WHEN),
        DiffChange("M", "F", "/tank/home/unlinked", None, -2, WHEN),
    ]


@pytest.mark.parametrize(
    ("escaped", "path"),
    [
        ("/tank/my\\0040file", "/tank/my file"),  # OpenZFS 2.x: four digits
        ("/tank/my\\040file", "/tank/my file"),  # older releases, illumos: three digits
        ("/tank/a\\0401", "/tank/a 1"),  # three digits, then a digit that is the file's
        ("/tank/back\\0134slash", "/tank/back\\slash"),
        ("/tank/tab\\00111", "/tank/tab\t1"),
        ("/tank/old\\0101", "/tank/old\b1"),  # 'A' is never escaped: the 3-digit reading
        ("/tank/caf\\0303\\0251", "/tank/café"),  # UTF-8, escaped byte by byte
        ("/tank/latin1-\\0351t\\0351", "/tank/latin1-\\xe9t\\xe9"),  # not UTF-8: kept visible
        ("/tank/line\\0012break", "/tank/line\nbreak"),
    ],
)
def test_octal_escapes_in_paths_are_decoded(escaped: str, path: str) -> None:
    (change,) = parse_zfs_diff(f"{T}\t+\tF\t{escaped}\n")
    assert change.path == path


def test_renamed_paths_are_both_decoded() -> None:
    (change,) = parse_zfs_diff(f"{T}\tR\t/\t/tank/old\\0040dir\t/tank/new\\0040dir\n")
    assert (change.path, change.new_path) == ("/tank/old dir", "/tank/new dir")


def test_a_space_padded_time_and_the_root_of_a_root_mounted_dataset_are_read() -> None:
    (change,) = parse_zfs_diff("  86400.000000001\tM\t/\t/\n")
    assert change.changed_at == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
    assert change.path == "/"


@pytest.mark.parametrize("text", ["", "\n", "\n\n  \n"])
def test_no_output_means_no_changes(text: str) -> None:
    assert parse_zfs_diff(text) == []


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(f"{T}\tX\tF\t/tank/a", id="unknown-change"),
        pytest.param(f"{T}\t+\tZ\t/tank/a", id="unknown-file-type"),
        pytest.param(f"{T}\t+\t/tank/a", id="no-file-type-column"),
        pytest.param("+\tF\t/tank/a", id="no-time"),
        pytest.param(f"{T}\t+\tF\t/tank/a\t/tank/b\textra", id="six-columns"),
        pytest.param("1700000000\t+\tF\t/tank/a", id="time-without-nanoseconds"),
        pytest.param("999999999999.000000000\t+\tF\t/tank/a", id="time-out-of-range"),
        pytest.param(f"{T}\t+\tF\ttank/a", id="relative-path"),
        pytest.param(f"{T}\t+\tF\t", id="empty-path"),
        pytest.param(f"{T}\t+\tF\t/tank/\\9x", id="not-an-octal-escape"),
        pytest.param(f"{T}\t+\tF\t/tank/\\0777", id="escape-beyond-a-byte"),
        pytest.param(f"{T}\t+\tF\t/tank/trailing\\", id="lone-backslash"),
        pytest.param(f"{T}\t+\tF\t/tank/a\x07b", id="raw-control-character"),
        pytest.param(f"{T}\tR\tF\t/tank/a", id="rename-without-new-path"),
        pytest.param(f"{T}\t+\tF\t/tank/a\t(+1)", id="link-delta-on-an-add"),
        pytest.param(f"{T}\tM\tF\t/tank/a\t/tank/b", id="modify-with-a-second-path"),
        pytest.param(f"{T}\tM\tF\t/tank/a\t(1)", id="unsigned-link-delta"),
    ],
)
def test_lines_out_of_shape_are_refused_with_the_line(line: str) -> None:
    error = assert_refused(parse_zfs_diff, ZFS_DIFF_KIND, f"{OUTPUT}{line}\n")
    assert error.lineno == OUTPUT.count("\n") + 1
    assert error.line == line


@pytest.mark.parametrize(
    "text",
    [*JUNK.values(), shell_error("zfs"), "Cannot diff an unmounted snapshot\n"],
    ids=[*JUNK, "not-found", "zfs-error"],
)
def test_junk_is_a_parse_error(text: str) -> None:
    assert_refused(parse_zfs_diff, ZFS_DIFF_KIND, text)


TOKENS = [
    T, "M", "+", "-", "R", "F", "/", "@", "|", "=", "B", "C", ">", "P", "?", "\t", "\n",
    "/tank/a", "\\", "\\0040", "\\040", "\\0377", "\\9", "(+1)", "(-1)", "(", ")", " ",
    "-1.000000000", "99999999999.999999999", "\x00", "\u2028", "\U0001f4a9",
]  # fmt: skip
tokens = tokens_of(TOKENS, st.integers(min_value=-(2**63), max_value=2**63).map(str))


@FUZZ
@given(text=arbitrary_text)
def test_arbitrary_text_gives_changes_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_zfs_diff, ZFS_DIFF_KIND, text)


@FUZZ
@given(text=plausible_lines(tokens))
def test_plausible_lines_give_changes_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_zfs_diff, ZFS_DIFF_KIND, text)


@FUZZ
@given(data=st.data())
def test_damaged_real_output_gives_changes_or_a_parse_error(data: st.DataObject) -> None:
    assert_parses_or_raises(parse_zfs_diff, ZFS_DIFF_KIND, data.draw(mutated(OUTPUT, tokens)))
