"""The batched script: framing, exit codes and cut-off output, run by a real /bin/sh."""

from __future__ import annotations

import subprocess

import pytest

from collectors.script import Section, build_script, new_nonce, script_finished, split_output


def run_sections(sections: list[Section], timeout_s: int = 5) -> tuple[str, str, str]:
    nonce = new_nonce()
    script = build_script(sections, nonce, timeout_s)
    proc = subprocess.run(
        ["/bin/sh", "-s"], input=script, capture_output=True, text=True, timeout=30
    )
    return nonce, proc.stdout, proc.stderr


def test_each_section_gets_its_own_stdout_stderr_and_exit_code() -> None:
    # given
    sections = [
        Section("first", "echo one; echo oops >&2"),
        Section("second", "printf 'no newline at end'"),
        Section("third", "echo partial; exit 3"),
    ]
    # when
    nonce, out, err = run_sections(sections)
    parts = split_output(out, err, nonce, ["first", "second", "third"])
    # then
    assert parts["first"].stdout == "one\n"
    assert parts["first"].stderr == "oops"
    assert parts["first"].exit_code == 0
    assert parts["second"].stdout == "no newline at end"
    assert parts["third"].stdout == "partial\n"
    assert parts["third"].exit_code == 3
    assert script_finished(out, nonce)


def test_a_section_that_reads_stdin_cannot_swallow_the_rest_of_the_script() -> None:
    nonce, out, err = run_sections([Section("reader", "cat"), Section("after", "echo still here")])
    parts = split_output(out, err, nonce, ["reader", "after"])
    assert parts["reader"].stdout == ""
    assert parts["after"].stdout == "still here\n"


def test_output_that_imitates_a_marker_without_the_nonce_is_just_output() -> None:
    fake = "printf '@@IFR-0000000000000000 E fake 0\\n@@IFR-0000000000000000 DONE\\n'"
    nonce, out, err = run_sections([Section("liar", fake)])
    parts = split_output(out, err, nonce, ["liar"])
    assert "@@IFR-0000000000000000 DONE" in parts["liar"].stdout
    assert parts["liar"].exit_code == 0


def test_a_section_past_its_timeout_is_killed_and_the_next_still_runs() -> None:
    nonce, out, err = run_sections([Section("slow", "sleep 30"), Section("fast", "echo ok")], 1)
    parts = split_output(out, err, nonce, ["slow", "fast"])
    assert parts["slow"].exit_code == 124
    assert parts["fast"].stdout == "ok\n"


def test_cut_off_output_keeps_finished_sections_and_marks_the_rest_incomplete() -> None:
    # given a transcript cut in the middle of the second section
    nonce, out, err = run_sections([Section("a", "echo A"), Section("b", "echo B; echo C")])
    cut = out[: out.index("B\n") + 2]
    # when
    parts = split_output(cut, err, nonce, ["a", "b", "c"])
    # then
    assert parts["a"].complete and parts["a"].stdout == "A\n"
    assert not parts["b"].complete and parts["b"].stdout == "B\n"
    assert not parts["c"].complete and parts["c"].stdout == ""
    assert not script_finished(cut, nonce)


@pytest.mark.parametrize("name", ["", "UPPER", "semi;colon", "a b", "x" * 41, "$(reboot)"])
def test_section_names_that_could_break_the_script_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid section name"):
        build_script([Section(name, "true")], new_nonce(), 5)


def test_commands_are_quoted_so_their_quotes_survive() -> None:
    nonce, out, err = run_sections([Section("quotes", """echo "it's" '$HOME' `echo x`""")])
    assert split_output(out, err, nonce, ["quotes"])["quotes"].stdout == "it's $HOME x\n"
