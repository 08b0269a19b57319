"""`manage.py import_ssh_config`: real ssh config files in a throwaway $HOME, real database."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from devices.models import AuthMethod, Device

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A $HOME of our own: `~` in the config and relative Includes (~/.ssh/...) resolve here."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_ssh_config", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def device(name: str) -> Device:
    return Device.objects.get(name=name)


@pytest.mark.django_db
def test_every_alias_of_a_host_line_becomes_a_device_with_that_blocks_settings(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host web1 web2\n  HostName %h.lan\n  Port 2222\n")

    # when
    out, _ = run(str(config))

    # then
    assert [(d.name, d.address, d.port) for d in Device.objects.all()] == [
        ("web1", "web1.lan", 2222),
        ("web2", "web2.lan", 2222),
    ]
    assert "+ web1 (root@web1.lan:2222)" in out
    assert "created 2, updated 0, unchanged/skipped 0, invalid 0" in out


@pytest.mark.django_db
def test_a_host_without_hostname_user_port_or_key_gets_the_defaults(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host nas\n")

    # when
    run(str(config))

    # then
    nas = device("nas")
    assert (nas.address, nas.username, nas.port) == ("nas", "root", 22)
    assert (nas.auth_method, nas.key_path) == (AuthMethod.AGENT, "")


@pytest.mark.django_db
def test_user_under_a_trailing_host_star_only_fills_in_hosts_that_set_none(home: Path) -> None:
    # given: ssh takes the first value it finds, so a trailing `Host *` holds defaults
    config = write(
        home / ".ssh/config",
        "Host db\n  User postgres\nHost pi\n  HostName 10.0.0.9\nHost *\n  User admin\n",
    )

    # when
    run(str(config))

    # then
    assert device("db").username == "postgres"
    assert device("pi").username == "admin"


@pytest.mark.django_db
def test_user_under_a_leading_host_star_wins_over_later_blocks_as_in_ssh(home: Path) -> None:
    # given: the same first-value-wins rule makes a leading `Host *` override everything
    config = write(home / ".ssh/config", "Host *\n  User admin\nHost db\n  User postgres\n")

    # when
    run(str(config))

    # then
    assert device("db").username == "admin"


@pytest.mark.django_db
def test_the_first_identity_file_with_a_tilde_becomes_the_absolute_key_path(home: Path) -> None:
    # given
    config = write(
        home / ".ssh/config",
        "Host db\n  IdentityFile ~/.ssh/id_db\n  IdentityFile ~/.ssh/id_other\n",
    )

    # when
    out, _ = run(str(config))

    # then
    db = device("db")
    assert db.auth_method == AuthMethod.KEY_FILE
    assert db.key_path == str(home / ".ssh/id_db")
    assert "using the first of 2 IdentityFiles" in out


@pytest.mark.django_db
def test_hosts_and_settings_from_included_files_are_imported(home: Path) -> None:
    # given: globbed relative Includes (against ~/.ssh), a `~` Include and one inside a block
    write(home / ".ssh/conf.d/10-nas.conf", "Host nas\n  HostName 10.0.0.5\n")
    write(home / ".ssh/conf.d/20-pi.conf", "Host pi\n  User pi\n")
    write(home / ".ssh/db.extra", "User postgres\n")
    write(home / "elsewhere/backup.conf", "Host backup\n  HostName 10.0.0.7\n")
    config = write(
        home / ".ssh/config",
        "Include conf.d/*.conf ~/elsewhere/backup.conf\n"
        "Port 2022\n"  # still the global section: applies to every host, included ones too
        "Host db\n"
        "  Include db.extra\n"
        "  HostName db.lan\n",
    )

    # when
    run(str(config))

    # then
    assert [
        (d.name, d.address, d.port, d.username) for d in Device.objects.order_by("address")
    ] == [
        ("nas", "10.0.0.5", 2022, "root"),
        ("backup", "10.0.0.7", 2022, "root"),
        ("db", "db.lan", 2022, "postgres"),
        ("pi", "pi", 2022, "pi"),
    ]


@pytest.mark.django_db
def test_an_include_matching_nothing_is_a_warning_not_an_error(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Include conf.d/*\nHost nas\n")

    # when
    _, err = run(str(config))

    # then
    assert "Include 'conf.d/*' matched no file" in err
    assert Device.objects.filter(name="nas").exists()


@pytest.mark.django_db
def test_an_include_loop_is_a_command_error(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Include config\n")

    # when / then
    with pytest.raises(CommandError, match="nested too deeply"):
        run(str(config))


@pytest.mark.django_db
def test_match_host_blocks_apply_to_the_hosts_they_match(home: Path) -> None:
    # given: paramiko's get_hostnames() raises KeyError on any Match block
    config = write(home / ".ssh/config", "Host db web\nMatch host db\n  Port 2200\n")

    # when
    run(str(config))

    # then
    assert (device("db").port, device("web").port) == (2200, 22)


@pytest.mark.django_db
def test_match_exec_commands_are_never_run(home: Path) -> None:
    # given
    marker = home / "ran"
    config = write(home / ".ssh/config", f'Host db\nMatch exec "touch {marker}"\n  Port 2200\n')

    # when
    _, err = run(str(config))

    # then
    assert not marker.exists()
    assert device("db").port == 22
    assert "ignored a 'Match exec' block" in err


@pytest.mark.django_db
def test_wildcard_and_negated_patterns_are_skipped_and_listed(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host *.lan !gw.lan\n  User admin\nHost nas.lan\n")

    # when
    out, _ = run(str(config))

    # then
    assert list(Device.objects.values_list("name", "username")) == [("nas.lan", "admin")]
    assert "= *.lan: pattern, not a host" in out
    assert "= !gw.lan: pattern, not a host" in out
    assert "unchanged/skipped 2" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ("HostName -oProxyCommand=touch\n", "HostName '-oProxyCommand=touch'"),
        ("User Admin\n", "User 'Admin'"),
        ("Port ssh\n", "port 'ssh' is not a number"),
        ("Port 70000\n", "Port 70000"),
    ],
)
def test_a_host_with_an_invalid_value_is_reported_and_the_others_imported(
    home: Path, block: str, reason: str
) -> None:
    # given
    config = write(home / ".ssh/config", f"Host bad\n  {block}Host good\n")

    # when
    out, _ = run(str(config))

    # then
    assert list(Device.objects.values_list("name", flat=True)) == ["good"]
    assert f"! bad: {reason}" in out
    assert "created 1, updated 0, unchanged/skipped 0, invalid 1" in out


@pytest.mark.django_db
def test_an_alias_that_is_not_a_valid_device_name_is_sanitised_and_says_so(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host web+1\n  HostName 10.0.0.3\n")

    # when
    out, _ = run(str(config))

    # then
    assert device("web-1").address == "10.0.0.3"
    assert "+ web-1 (root@10.0.0.3:22) [name sanitised from 'web+1']" in out


@pytest.mark.django_db
def test_aliases_that_sanitise_to_a_taken_name_or_to_nothing_are_invalid(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host web+1 web-1 @@\n  HostName 10.0.0.3\n")

    # when
    out, _ = run(str(config))

    # then
    assert list(Device.objects.values_list("name", flat=True)) == ["web-1"]
    assert "! web-1: device name 'web-1' is already taken by 'web+1'" in out
    assert "! @@: no usable device name can be made from this alias" in out


@pytest.mark.django_db
def test_tags_given_on_the_command_line_go_on_every_new_device(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host a b\n")

    # when
    run(str(config), "--tag", "homelab", "--tag", "imported")

    # then
    assert {d.name: d.tags for d in Device.objects.all()} == {
        "a": ["homelab", "imported"],
        "b": ["homelab", "imported"],
    }


@pytest.mark.django_db
def test_an_invalid_tag_is_a_command_error_and_nothing_is_written(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host a\n")

    # when / then
    with pytest.raises(CommandError, match="invalid tag ' bad'"):
        run(str(config), "--tag", " bad")
    assert not Device.objects.exists()


@pytest.mark.django_db
def test_dry_run_writes_nothing_but_prints_the_same_summary(home: Path) -> None:
    # given
    Device.objects.create(name="db", address="old.lan")
    config = write(home / ".ssh/config", "Host db nas\n  Port 2222\nHost bad\n  User Bad\n")

    # when
    dry, _ = run(str(config), "--dry-run", "--update-existing", "--tag", "x")

    # then
    assert list(Device.objects.values_list("name", "address", "port", "tags")) == [
        ("db", "old.lan", 22, [])
    ]
    assert dry.splitlines()[-1].endswith("(dry run: nothing was written)")
    real, _ = run(str(config), "--update-existing", "--tag", "x")
    assert dry.replace(" (dry run: nothing was written)", "") == real


@pytest.mark.django_db
def test_existing_devices_are_left_untouched_without_update_existing(home: Path) -> None:
    # given
    Device.objects.create(name="db", address="old.lan", port=22, tags=["prod"])
    config = write(home / ".ssh/config", "Host db\n  HostName db.lan\n  Port 2222\n")

    # when
    out, _ = run(str(config), "--tag", "imported")

    # then
    db = device("db")
    assert (db.address, db.port, db.tags) == ("old.lan", 22, ["prod"])
    assert "= db (root@db.lan:2222): exists, left alone" in out
    assert "pass --update-existing to update them" in out


@pytest.mark.django_db
def test_update_existing_updates_connection_settings_and_merges_tags(home: Path) -> None:
    # given
    Device.objects.create(
        name="db", address="old.lan", username="root", auth_method=AuthMethod.AGENT, tags=["prod"]
    )
    write(home / ".ssh/id_db", "not a real key")
    config = write(
        home / ".ssh/config",
        "Host db\n  HostName db.lan\n  Port 2222\n  User postgres\n  IdentityFile ~/.ssh/id_db\n",
    )

    # when
    out, _ = run(str(config), "--update-existing", "--tag", "prod", "--tag", "imported")

    # then
    db = device("db")
    assert (db.address, db.port, db.username) == ("db.lan", 2222, "postgres")
    assert (db.auth_method, db.key_path) == (AuthMethod.KEY_FILE, str(home / ".ssh/id_db"))
    assert db.tags == ["prod", "imported"]
    assert "~ db (postgres@db.lan:2222): address 'old.lan' -> 'db.lan'" in out
    assert "tags +imported" in out
    assert "created 0, updated 1, unchanged/skipped 0, invalid 0" in out


@pytest.mark.django_db
def test_update_existing_keeps_a_stored_key_when_the_config_names_no_key(home: Path) -> None:
    # given
    Device.objects.create(name="db", address="db.lan", auth_method=AuthMethod.STORED_KEY)
    config = write(home / ".ssh/config", "Host db\n  HostName db.lan\n")

    # when
    out, _ = run(str(config), "--update-existing")

    # then
    assert device("db").auth_method == AuthMethod.STORED_KEY
    assert "= db (root@db.lan:22): up to date" in out


@pytest.mark.django_db
def test_the_default_path_is_the_users_ssh_config(home: Path) -> None:
    # given
    write(home / ".ssh/config", "Host nas\n")

    # when
    run()

    # then
    assert Device.objects.filter(name="nas").exists()


@pytest.mark.django_db
def test_a_missing_file_is_a_command_error(home: Path) -> None:
    # when / then
    with pytest.raises(CommandError, match=f"no such file: {home}/nope"):
        run(str(home / "nope"))


@pytest.mark.django_db
def test_a_line_ssh_cannot_parse_is_a_command_error_naming_the_line(home: Path) -> None:
    # given
    config = write(home / ".ssh/config", "Host a\n  Port\n")

    # when / then
    with pytest.raises(CommandError, match=r"config:2: cannot parse 'Port'"):
        run(str(config))


def test_a_missing_file_exits_with_status_1_and_no_traceback(tmp_path: Path) -> None:
    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "import_ssh_config", str(tmp_path / "nope")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # then
    assert result.returncode == 1
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr
