"""The os-release parser (/etc/os-release, /etc/lsb-release) on captured outputs."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
from devices.parsers import OsRelease, parse_os_release
from tests.samples import sample

# fmt: off
OS_RELEASES = [
    # (sample, id, id_like, name, version_id, version, version_codename, pretty_name)
    ("alpine_3.23_distro.txt", "alpine", None, "Alpine Linux", "3.23.2", None, None,
     "Alpine Linux v3.23"),
    ("debian_10_buster_distro.txt", "debian", None, "Debian GNU/Linux", "10", "10 (buster)",
     "buster", "Debian GNU/Linux 10 (buster)"),
    ("debian_13_trixie_distro.txt", "debian", None, "Debian GNU/Linux", "13", "13 (trixie)",
     "trixie", "Debian GNU/Linux 13 (trixie)"),
    ("opensuse_leap_15_distro.txt", "opensuse-leap", ["suse", "opensuse"], "openSUSE Leap",
     "15.2", "15.2", None, "openSUSE Leap 15.2"),
    ("rocky_10_distro.txt", "rocky", ["rhel", "centos", "fedora"], "Rocky Linux", "10.0",
     "10.0 (Red Quartz)", None, "Rocky Linux 10.0 (Red Quartz)"),
    ("slackware_14.1_distro.txt", "slackware", None, "Slackware", "14.1", "14.1", None,
     "Slackware 14.1"),
    ("ubuntu_20.04_node_exporter.txt", "ubuntu", ["debian"], "Ubuntu", "20.04",
     "20.04.2 LTS (Focal Fossa)", "focal", "Ubuntu 20.04.2 LTS"),
    # /etc/lsb-release: DISTRIB_* keys only, no VERSION
    ("ubuntu_22.04_lsb-release.txt", "ubuntu", None, "Ubuntu", "22.04", None, "jammy",
     "Ubuntu 22.04.2 LTS"),
    ("ubuntu_24.04_distro.txt", "ubuntu", ["debian"], "Ubuntu", "24.04",
     "24.04.3 LTS (Noble Numbat)", "noble", "Ubuntu 24.04.3 LTS"),
    ("ubuntu_os-release_jc.txt", "ubuntu", ["debian"], "Ubuntu", "18.04",
     "18.04.5 LTS (Bionic Beaver)", "bionic", "Ubuntu 18.04.5 LTS"),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "expected"), [(row[0], OsRelease(*row[1:])) for row in OS_RELEASES]
)
def test_os_release_identifies_the_distribution(name: str, expected: OsRelease) -> None:
    assert parse_os_release(sample(f"os-release/{name}")) == expected


def test_os_release_follows_shell_quoting() -> None:
    # given
    text = (
        "# written by hand\n"
        "\n"
        "NAME='Acme \"Linux\"'\n"
        'PRETTY_NAME="Acme \\"Linux\\" \\$5 \\\\ \\q"\n'
        "ID=acme  # trailing comment\n"
        "VERSION_ID=1\\ 2\n"
        'ID_LIKE="  debian   ubuntu "\n'
    )
    # when
    release = parse_os_release(text)
    # then
    assert release.name == 'Acme "Linux"'
    assert release.pretty_name == 'Acme "Linux" $5 \\ \\q'
    assert release.id == "acme"
    assert release.version_id == "1 2"
    assert release.id_like == ["debian", "ubuntu"]


def test_os_release_keys_win_over_lsb_release_keys() -> None:
    # given both files concatenated
    text = 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nID=pop\nNAME="Pop!_OS"\n'
    # when
    release = parse_os_release(text)
    # then
    assert (release.id, release.name, release.version_id) == ("pop", "Pop!_OS", "22.04")


def test_os_release_unterminated_quote_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_os_release('ID=ubuntu\nPRETTY_NAME="Ubuntu 22.04\n')
    assert caught.value.lineno == 2


def test_os_release_without_id_or_name_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_os_release('VERSION_ID="22.04"\n')
    assert caught.value.kind == "os-release"
