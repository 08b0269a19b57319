"""The swag-confs survey: the command (valid POSIX sh, run here by real shells on real folders),
what it passes to the shell, and its parser."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given

from collectors.parsing import ParseError
from proxies.survey import (
    KIND,
    MAX_KNOWN_CHARS,
    parse_swag_survey,
    survey_command,
    validate_instance_path,
)
from tests.parser_kit import (
    FUZZ,
    arbitrary_text,
    assert_parses_or_raises,
    assert_refused,
    mutated,
    tokens_of,
)
from tests.samples import sample

SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def swag(tmp_path: Path) -> Path:
    """A SWAG /config with two real confs, a sample, an empty conf and an oddly named one."""
    confs = tmp_path / "appdata" / "swag" / "nginx" / "proxy-confs"
    confs.mkdir(parents=True)
    (confs / "jellyfin.subdomain.conf").write_text(sample("swag/jellyfin.subdomain.conf.sample"))
    (confs / "sonarr.subfolder.conf").write_text(sample("swag/sonarr.subfolder.conf.sample"))
    (confs / "plex.subdomain.conf.sample").write_text(sample("swag/plex.subdomain.conf.sample"))
    (confs / "empty.conf").write_text("")
    (confs / "my app.subdomain.conf").write_text("server { }\n")
    (confs / "notes.txt").write_text("not a conf\n")
    return tmp_path / "appdata" / "swag"


def run(command: str, shell: str = "sh") -> str:
    argv = [shell, "sh", "-c", command] if shell == "busybox" else [shell, "-c", command]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30)
    return done.stdout


@pytest.mark.parametrize("shell", ["sh", *SHELLS])
def test_the_command_lists_every_conf_and_sends_what_we_do_not_hold(swag: Path, shell: str) -> None:
    # given we hold sonarr's conf as it is
    sonarr = (swag / "nginx/proxy-confs/sonarr.subfolder.conf").read_bytes()
    command = survey_command([(str(swag), {"sonarr.subfolder.conf": sha(sonarr)})])
    # when the device's shell runs it
    survey = parse_swag_survey(run(command, shell))
    # then
    [listing] = survey.instances
    assert listing.path == str(swag) and listing.error is None and listing.odd_names == 1
    files = {f.name: f for f in listing.files}
    assert sorted(files) == [
        "empty.conf", "jellyfin.subdomain.conf", "plex.subdomain.conf.sample",
        "sonarr.subfolder.conf",
    ]  # fmt: skip
    jellyfin = files["jellyfin.subdomain.conf"]
    assert jellyfin.content == sample("swag/jellyfin.subdomain.conf.sample")
    assert jellyfin.sha256 == sha(jellyfin.content.encode()) and jellyfin.size_bytes == 2236
    assert jellyfin.conf is not None and jellyfin.conf.upstream_app == "jellyfin"
    assert files["plex.subdomain.conf.sample"].is_sample
    assert files["plex.subdomain.conf.sample"].conf is not None
    # sonarr's hash matched: listed, not sent
    assert files["sonarr.subfolder.conf"].content is None
    assert files["sonarr.subfolder.conf"].sha256 == sha(sonarr)
    # an empty file is sent (there is nothing to parse)
    assert files["empty.conf"].content == "" and files["empty.conf"].conf is None
    assert files["empty.conf"].parse_error is None


def test_the_command_is_valid_posix_sh() -> None:
    command = survey_command([("/mnt/user/appdata/swag", {"a.conf": "0" * 64}), ("/srv/x", {})])
    subprocess.run(["sh", "-n", "-c", command], check=True)
    if shutil.which("dash"):
        subprocess.run(["dash", "-n", "-c", command], check=True)


def test_a_missing_folder_and_a_device_without_swag_are_told_apart(tmp_path: Path) -> None:
    survey = parse_swag_survey(run(survey_command([(str(tmp_path / "nope"), {})])))
    assert survey.instances[0].error == "no nginx/proxy-confs folder there"
    assert survey.instances[0].files == []
    assert parse_swag_survey(run(survey_command([]))).instances == []


def test_content_is_sent_exactly_even_when_it_looks_like_a_frame(swag: Path) -> None:
    # given a conf holding frame-like lines, no final newline and bytes that are not UTF-8
    tricky = b"@@IFR-SWAG end 0\n@@IFR-SWAG instance /etc\nlisten 80;\n\xff\xfe# no newline"
    (swag / "nginx/proxy-confs/tricky.conf").write_bytes(tricky)
    # when
    survey = parse_swag_survey(run(survey_command([(str(swag), {})])))
    # then the hash is of the exact bytes, and the frames inside stayed content
    tricky_file = next(f for f in survey.instances[0].files if f.name == "tricky.conf")
    assert tricky_file.sha256 == sha(tricky) and tricky_file.size_bytes == len(tricky)
    assert tricky_file.content is not None and tricky_file.content.startswith("@@IFR-SWAG end 0")
    assert tricky_file.parse_error is not None  # and nginx would not read it either
    assert len(survey.instances) == 1


@pytest.mark.parametrize(
    "path",
    ["relative/swag", "/mnt/../etc", "/mnt/user/$(reboot)", "/mnt/`id`", "/a;b", "/a\nb", "/x'y",
     "/a/..", ""],
)  # fmt: skip
def test_unsafe_instance_folders_never_reach_the_shell(path: str) -> None:
    with pytest.raises(ValueError):
        validate_instance_path(path)
    with pytest.raises(ValueError):
        survey_command([(path, {})])


def test_folders_are_quoted_and_hashes_validated() -> None:
    assert validate_instance_path("/mnt/user/app data/swag/") == "/mnt/user/app data/swag"
    command = survey_command([("/mnt/user/app data/swag", {})])
    assert "_swag '/mnt/user/app data/swag' ''" in command
    for name, digest in [("a.conf", "F" * 64), ("a b.conf", "0" * 64), ("-x.conf", "0" * 64),
                         ("a.conf", "0" * 63)]:  # fmt: skip
        with pytest.raises(ValueError):
            survey_command([("/srv/swag", {name: digest})])


def test_known_hashes_past_the_argument_budget_are_left_out() -> None:
    # given more known files than one shell argument holds
    known = {f"app{i:05d}.subdomain.conf.sample": f"{i:064x}" for i in range(2000)}
    # when
    command = survey_command([("/srv/swag", known)])
    # then the command stays under Linux's 128 KiB per argument; the first files keep their hash
    assert len(command) < 128 * 1024
    assert f"app00000.subdomain.conf.sample={0:064x}" in command
    assert "app01999.subdomain.conf.sample" not in command
    assert len(command) > MAX_KNOWN_CHARS - 1000


def frame(name: str, data: bytes, *, send: bool = True) -> str:
    head = f"@@IFR-SWAG file {sha(data)} {len(data)} {name}\n"
    if not send:
        return head
    return f"{head}@@IFR-SWAG content\n{base64.encodebytes(data).decode()}\n@@IFR-SWAG end 0\n"


def test_files_that_could_not_be_read_or_sent_carry_their_reason() -> None:
    text = (
        "@@IFR-SWAG instance /srv/swag\n@@IFR-SWAG unreadable-file secret.conf\n"
        + frame("big.conf", b"x", send=False) + "@@IFR-SWAG too-big\n"
        + frame("cut.conf", b"x", send=False) + "@@IFR-SWAG content\naGVsbG8=\n"
    )  # fmt: skip
    [listing] = parse_swag_survey(text).instances
    assert listing.unreadable == ["secret.conf"]
    big, cut = listing.files
    assert big.error is not None and "larger than" in big.error and big.content is None
    assert cut.error == "the content was cut off"


def test_a_file_changed_while_read_is_kept_with_the_hash_of_what_arrived() -> None:
    text = "@@IFR-SWAG instance /srv/swag\n" + frame("a.conf", b"listen 80;\n").replace(
        base64.encodebytes(b"listen 80;\n").decode(), base64.encodebytes(b"listen 81;\n").decode()
    )
    [file] = parse_swag_survey(text).instances[0].files
    assert file.content == "listen 81;\n" and file.sha256 == sha(b"listen 81;\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty output"),
        ("hello\n", "before any instance frame"),
        ("@@IFR-SWAG instance /x\nstray line\n", "unexpected line"),
        ("@@IFR-SWAG instance /x\n@@IFR-SWAG content\n", "without a file line"),
        ("@@IFR-SWAG instance /x\n@@IFR-SWAG bogus\n", "unexpected line"),
        (f"@@IFR-SWAG instance /x\n{frame('a.conf', b'x', send=False)}@@IFR-SWAG content\n"
         "@@IFR-SWAG odd-name\n", "a frame inside a file's content"),
    ],
)  # fmt: skip
def test_output_that_is_not_the_survey_is_refused(text: str, message: str) -> None:
    assert message in str(assert_refused(parse_swag_survey, KIND, text))


TEMPLATE = (
    "@@IFR-SWAG instance /srv/swag\n@@IFR-SWAG odd-name\n@@IFR-SWAG unreadable-file b.conf\n"
    + frame(
        "a.subdomain.conf", b"server { server_name a.*; location / { proxy_pass http://a:1; } }"
    )
    + frame("b.conf.sample", b"x", send=False)
    + "@@IFR-SWAG instance /srv/other\n@@IFR-SWAG missing\n"
)
TOKENS = ["@@IFR-SWAG ", "instance", "file", "content", "end", "0", "1", "too-big", "missing",
          "\n", " ", "/", "=", "a" * 64, "0" * 64, "a.conf"]  # fmt: skip


@FUZZ
@given(arbitrary_text)
def test_any_text_gives_a_survey_or_a_parse_error(text: str) -> None:
    assert_parses_or_raises(parse_swag_survey, KIND, text)


@FUZZ
@given(mutated(TEMPLATE, tokens_of(TOKENS)))
def test_an_edited_survey_gives_a_survey_or_a_parse_error(text: str) -> None:
    try:
        parse_swag_survey(text)
    except ParseError as error:
        assert error.kind == KIND and str(error)
