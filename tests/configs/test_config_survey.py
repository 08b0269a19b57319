"""The config-files survey: the command (valid POSIX sh, run here by real shells on real
folders), what it lets through to the shell, and its parser."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.parsers.configs import (
    KIND,
    MAX_KNOWN_CHARS,
    Watch,
    parse_config_survey,
    survey_command,
    validate_pattern,
)
from tests.parser_kit import (
    FUZZ,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    tokens_of,
)

SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]
LIMIT = 64 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(command: str, shell: str = "sh") -> str:
    argv = [shell, "sh", "-c", command] if shell == "busybox" else [shell, "-c", command]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """Two Compose stacks (one in a folder with a space), a binary file, an oddly named file, a
    folder that matches the glob and a big file."""
    (tmp_path / "stacks" / "media server").mkdir(parents=True)
    (tmp_path / "stacks" / "web").mkdir()
    (tmp_path / "stacks" / "media server" / "compose.yaml").write_text("services:\n  a: {}\n")
    (tmp_path / "stacks" / "web" / "compose.yaml").write_text("services:\n  web: {}\n")
    (tmp_path / "stacks" / "web" / "blob.conf").write_bytes(b"\x00\x01\xffbinary")
    (tmp_path / "stacks" / "web" / "we$ird.conf").write_text("x\n")
    (tmp_path / "stacks" / "web" / "dir.conf").mkdir()
    (tmp_path / "stacks" / "web" / "big.conf").write_text("x" * 100)
    return tmp_path / "stacks"


@pytest.mark.parametrize("shell", ["sh", *SHELLS])
def test_the_command_expands_globs_and_sends_only_what_we_do_not_hold(
    stacks: Path, shell: str
) -> None:
    # given we hold the web stack's compose file as it is
    web = stacks / "web" / "compose.yaml"
    watches = [
        Watch(f"{stacks}/*/compose.yaml", LIMIT, "default"),
        Watch(f"{stacks}/web/*.conf", 50),
        Watch(f"{stacks}/web/compose.yaml", LIMIT),  # listed by the first watch already
        Watch(f"{stacks}/missing/*.yml", LIMIT),
    ]
    command = survey_command(watches, {str(web): sha(web.read_bytes())})
    # when the device's shell runs it
    survey = parse_config_survey(run(command, shell))
    # then
    compose, confs, again, missing = survey.listings
    assert compose.source == "default" and compose.matched and compose.error is None
    files = {f.path: f for f in compose.files}
    media = str(stacks / "media server" / "compose.yaml")
    assert sorted(files) == [media, str(web)]
    assert files[media].content == "services:\n  a: {}\n" and not files[media].binary
    assert files[media].sha256 == sha(b"services:\n  a: {}\n") and files[media].size_bytes == 18
    assert files[str(web)].content is None  # unchanged: its hash was passed in
    assert files[str(web)].sha256 == sha(web.read_bytes())
    conf_files = {Path(f.path).name: f for f in confs.files}
    assert sorted(conf_files) == ["big.conf", "blob.conf"] and confs.odd_names == 1
    assert conf_files["big.conf"].too_big and conf_files["big.conf"].content is None
    assert conf_files["big.conf"].size_bytes == 100
    blob = conf_files["blob.conf"]
    assert blob.binary and base64.b64decode(blob.content or "") == b"\x00\x01\xffbinary"
    assert again.matched and again.files == []
    assert not missing.matched and missing.files == []


def test_an_unreadable_file_and_an_unreadable_folder_are_told_apart(ssh_user: str) -> None:
    # given a file and a folder only root may read, surveyed as the unprivileged test user
    root = Path(tempfile.mkdtemp(prefix="infra-cfg-"))
    try:
        (root / "web").mkdir()
        (root / "locked").mkdir()
        secret = root / "web" / "compose.yaml"
        secret.write_text("services: {}\n")
        (root / "web" / "open.yaml").write_text("services: {}\n")
        (root / "web" / "open.yaml").chmod(0o644)
        secret.chmod(0o600)
        for folder in (root, root / "web"):
            folder.chmod(0o755)
        (root / "locked").chmod(0o700)
        watches = [Watch(f"{root}/web/*.yaml", LIMIT), Watch(f"{root}/locked/*.yaml", LIMIT)]
        done = subprocess.run(
            ["runuser", "-u", ssh_user, "--", "sh", "-c", survey_command(watches, {})],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        web, locked = parse_config_survey(done.stdout).listings
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # then
    assert web.unreadable == [str(secret)]
    assert [f.path for f in web.files] == [str(root / "web" / "open.yaml")]
    assert locked.error == "its folder is not readable by the SSH user" and locked.files == []


def test_the_known_hashes_stay_under_the_argument_limit() -> None:
    known = {f"/srv/stack-{i:05}/compose.yaml": sha(str(i).encode()) for i in range(3000)}
    command = survey_command([Watch("/srv/*/compose.yaml", LIMIT)], known)
    assert MAX_KNOWN_CHARS < len(command) < 128 * 1024
    assert "/srv/stack-00000/compose.yaml" in command
    assert "/srv/stack-02999/compose.yaml" not in command  # left out: sent again


@pytest.mark.parametrize(
    "pattern",
    ["relative/x.conf", "/etc/$(reboot)/x", "/etc/`id`", "/srv/../etc/shadow", "/srv/a;b",
     "/*/compose.yaml", "/srv/**/x.yml", "/srv/\nx", "/srv/'x'", "/srv/[ab.conf", "/x", "/srv/"],
)  # fmt: skip
def test_unsafe_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        validate_pattern(pattern)
    with pytest.raises(ValueError):
        survey_command([Watch(pattern, LIMIT)], {})


@pytest.mark.parametrize("pattern", ["/srv/stacks/*/compose.yaml", "/etc/nginx/conf.d/*.conf",
                                     "/mnt/user/appdata/my app/docker-compose.yml",
                                     "/etc/[a-z]*.d/x?.conf"])  # fmt: skip
def test_plain_patterns_and_globs_are_accepted(pattern: str) -> None:
    assert validate_pattern(f"  {pattern} ") == pattern


def test_a_pattern_reaches_the_shell_as_one_quoted_word(tmp_path: Path) -> None:
    # given a folder named like a command substitution would be, were it expanded
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "x.conf").write_text("one\n")
    command = survey_command([Watch(f"{tmp_path}/a b/*.conf", LIMIT)], {})
    [listing] = parse_config_survey(run(command)).listings
    assert [f.path for f in listing.files] == [f"{tmp_path}/a b/x.conf"]


def test_bad_known_entries_are_refused() -> None:
    with pytest.raises(ValueError):
        survey_command([Watch("/srv/x/*.yml", LIMIT)], {"/srv/x/$(id).yml": "0" * 64})
    with pytest.raises(ValueError):
        survey_command([Watch("/srv/x/*.yml", LIMIT)], {"/srv/x/a.yml": "not-a-hash"})


def test_nothing_to_watch_is_an_empty_survey() -> None:
    assert parse_config_survey(run(survey_command([], {}))).listings == []


GOOD = (
    "@@IFR-CFG watch manual 100 /srv/x/*.conf\n"
    f"@@IFR-CFG file {sha(b'hi')} 2 /srv/x/a.conf\n"
    "@@IFR-CFG content\naGk=\n\n@@IFR-CFG end 0\n"
    f"@@IFR-CFG file {'0' * 64} 900 /srv/x/b.conf\n@@IFR-CFG too-big\n"
    "@@IFR-CFG unreadable /srv/x/c.conf\n@@IFR-CFG odd-name\n"
)


def test_the_parser_reads_each_frame() -> None:
    [listing] = parse_config_survey(GOOD).listings
    a, b = listing.files
    assert (a.content, a.sha256, a.size_bytes) == ("hi", sha(b"hi"), 2)
    assert b.too_big and listing.unreadable == ["/srv/x/c.conf"] and listing.odd_names == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty output"),
        ("hello world\n", "a line before any watch frame"),
        ("@@IFR-CFG watch manual 1 /x/y\n@@IFR-CFG content\n", "content frame without a file"),
        ("@@IFR-CFG watch manual 1 /x/y\nsomething\n", "unexpected line"),
        (f"@@IFR-CFG watch manual 1 /x/y\n@@IFR-CFG file {'a' * 64} 1 /x/$y\n", "characters"),
        (GOOD.replace("aGk=\n", "aGk=\n@@IFR-CFG file x\n"), "a frame inside a file's content"),
    ],
)
def test_garbage_is_a_parse_error(text: str, why: str) -> None:
    error = assert_refused(parse_config_survey, KIND, text)
    assert why in str(error)


def test_cut_off_or_garbled_content_is_an_error_of_that_file() -> None:
    head = f"@@IFR-CFG watch manual 9 /x/*\n@@IFR-CFG file {sha(b'hi')} 2 /x/a\n@@IFR-CFG content\n"
    [cut] = parse_config_survey(head + "aGk=\n").listings[0].files
    assert cut.error == "the content was cut off" and cut.content is None
    [garbled] = parse_config_survey(head + "!!!\n@@IFR-CFG end 0\n").listings[0].files
    assert garbled.error is not None and "garbled" in garbled.error


@FUZZ
@given(arbitrary_text)
def test_any_text_parses_or_raises_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_config_survey, KIND, text)


FRAMES = ["@@IFR-CFG watch manual 10 /x/*", "@@IFR-CFG watch default 0 /a b/c",
          f"@@IFR-CFG file {'a' * 64} 3 /x/y", "@@IFR-CFG content", "@@IFR-CFG end 0",
          "@@IFR-CFG too-big", "@@IFR-CFG nomatch", "@@IFR-CFG unreadable-dir",
          "@@IFR-CFG odd-name", "@@IFR-CFG too-many 5", "@@IFR-CFG unreadable /x/z",
          "@@IFR-CFG none", "aGk=", "AAEC"]  # fmt: skip


@FUZZ
@given(st.lists(tokens_of(FRAMES), max_size=30).map("\n".join))
def test_any_sequence_of_frames_parses_or_raises_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_config_survey, KIND, text)


@FUZZ
@given(mutated(GOOD, tokens_of(FRAMES)))
def test_mutations_of_a_good_survey_parse_or_raise(text: str) -> None:
    assert_parses_or_raises(parse_config_survey, KIND, text)
