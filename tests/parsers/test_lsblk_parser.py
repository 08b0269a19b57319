"""The lsblk parser on captured tree outputs, on hand-written ``lsblk -J`` JSON and on bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.parsers.blockdev import LSBLK_KIND, BlockDevice, parse_lsblk
from tests.parser_kit import (
    EMPTY,
    FUZZ,
    JUNK,
    GiB,
    MiB,
    assert_parses_or_raises,
    assert_refused,
    bad_input_cases,
    mutated,
    shell_error,
    tokens_of,
)
from tests.samples import sample

SAMPLES = [
    "jc_lsblk_ubuntu1804.out",
    "jc_lsblk_centos77.out",
    "utillinux_lsblk_lvm_basic.txt",
    "utillinux_lsblk_nvme_topo.txt",
]


def by_name(devices: list[BlockDevice]) -> dict[str, BlockDevice]:
    return {device.name: device for device in devices}


# --- captured tree outputs -----------------------------------------------------------------------


def test_lsblk_reads_the_ubuntu_tree_with_snap_loops_and_partitions() -> None:
    # when
    devices = parse_lsblk(sample("tools/jc_lsblk_ubuntu1804.out"))
    # then
    assert len(devices) == 15
    roots = by_name(devices)
    assert roots["fd0"].size_bytes == 1468006  # 1.4M = 1.4 * 1048576 = 1468006.4
    assert roots["fd0"].removable is True
    assert roots["loop0"] == BlockDevice(
        name="loop0",
        type="loop",
        size_bytes=57147392,  # 54.5 MiB
        model=None,
        serial=None,
        rotational=None,
        transport=None,
        mountpoints=["/snap/core18/1223"],
        maj_min="7:0",
        removable=False,
        read_only=True,
        children=[],
        extra={},
    )
    sda = roots["sda"]
    assert (sda.type, sda.size_bytes, sda.mountpoints) == ("disk", 20 * GiB, [])
    assert [(c.name, c.size_bytes, c.mountpoints) for c in sda.children] == [
        ("sda1", 1 * MiB, []),
        ("sda2", 20 * GiB, ["/"]),
    ]
    assert roots["sr1"].size_bytes == 848 * MiB
    assert roots["sr1"].type == "rom"


def test_lsblk_reads_lvm_volumes_two_levels_deep() -> None:
    # when
    devices = parse_lsblk(sample("tools/jc_lsblk_centos77.out"))
    # then
    assert [d.name for d in devices] == ["sda", "sr0"]
    sda1, sda2 = devices[0].children
    assert (sda1.name, sda1.size_bytes, sda1.mountpoints) == ("sda1", 1 * GiB, ["/boot"])
    assert (sda2.name, sda2.size_bytes, sda2.mountpoints) == ("sda2", 19 * GiB, [])
    root, swap = sda2.children
    assert (root.name, root.type, root.maj_min, root.size_bytes, root.mountpoints) == (
        "centos-root",
        "lvm",
        "253:0",
        17 * GiB,
        ["/"],
    )
    assert (swap.name, swap.size_bytes, swap.mountpoints) == ("centos-swap", 2 * GiB, ["[SWAP]"])
    assert devices[1].size_bytes == 1024 * MiB


def test_lsblk_reads_ascii_glyphs_and_keeps_unknown_columns_in_extra() -> None:
    # when (util-linux test: NAME,KNAME,MAJ:MIN,RM,SIZE,TYPE,MOUNTPOINT, ASCII tree)
    devices = parse_lsblk(sample("tools/utillinux_lsblk_lvm_basic.txt"))
    # then: the volume group spans four loops and appears under each of them
    assert [d.name for d in devices] == [
        "loop0",
        "loop1",
        "loop2",
        "loop3",
        "sda",
        "sdb",
        "nvme0n1",
    ]
    for loop in devices[:4]:
        (volume,) = loop.children
        assert volume.name == "vg_foo.4059-lv_foo.4059"
        assert (volume.type, volume.size_bytes, volume.extra) == (
            "lvm",
            32 * MiB,
            {"kname": "dm-0"},
        )
    roots = by_name(devices)
    sda = roots["sda"]
    assert sda.size_bytes == 240088671846  # 223.6 GiB = 240088671846.4
    assert sda.read_only is None  # no RO column
    assert [c.name for c in sda.children] == [f"sda{n}" for n in range(1, 7)]
    assert by_name(sda.children)["sda4"].mountpoints == ["/"]
    assert by_name(sda.children)["sda1"].mountpoints == ["/boot/efi"]
    assert roots["sdb"].children[0].mountpoints == ["/home/archive"]
    assert roots["sdb"].children[0].size_bytes == 79993765888  # 74.5 GiB
    nvme = by_name(roots["nvme0n1"].children)
    assert nvme["nvme0n1p2"].mountpoints == ["/home"]
    assert nvme["nvme0n1p2"].maj_min == "259:2"
    assert nvme["nvme0n1p3"].mountpoints == ["/home/test"]


def test_lsblk_reads_topology_columns_into_extra() -> None:
    # when (NAME SIZE ALIGNMENT MIN-IO OPT-IO PHY-SEC LOG-SEC RQ-SIZE)
    devices = parse_lsblk(sample("tools/utillinux_lsblk_nvme_topo.txt"))
    # then
    assert [d.name for d in devices] == ["sda", "sdb", "nvme0n1"]
    nvme = devices[2]
    assert (nvme.type, nvme.maj_min, nvme.mountpoints) == (None, None, [])
    assert nvme.extra == {
        "alignment": "0",
        "min-io": "512",
        "opt-io": "0",
        "phy-sec": "512",
        "log-sec": "512",
        "rq-size": "1023",
    }
    assert [c.name for c in nvme.children] == ["nvme0n1p1", "nvme0n1p2", "nvme0n1p3"]
    assert devices[0].children[5].size_bytes == 8375186227  # 7.8 GiB = 8375186227.2


def test_lsblk_reads_byte_sizes_and_several_mountpoints_in_the_tree() -> None:
    # given a hand-written `lsblk -b -o NAME,SIZE,TYPE,MOUNTPOINTS` (util-linux 2.37+ prints
    # further mount points of a device on lines of their own)
    text = (
        "NAME          SIZE TYPE MOUNTPOINTS\n"
        "vda   21474836480 disk \n"
        "└─vda1 21473787904 part /mnt/a\n"
        "                        /mnt/b\n"
    )
    # when
    (vda,) = parse_lsblk(text)
    # then
    assert vda.size_bytes == 21474836480
    assert vda.children[0].mountpoints == ["/mnt/a", "/mnt/b"]


# --- hand-written JSON (no JSON capture exists in the samples) -----------------------------------

# util-linux 2.37+: typed values, `mountpoints` list with null for "not mounted".
JSON_NEW = {
    "blockdevices": [
        {
            "name": "nvme0n1",
            "type": "disk",
            "size": 1000204886016,
            "model": "Samsung SSD 980 PRO 1TB",
            "serial": "S5GXNX0T123456",
            "rota": False,
            "tran": "nvme",
            "mountpoints": [None],
            "children": [
                {
                    "name": "nvme0n1p1",
                    "type": "part",
                    "size": 536870912,
                    "model": None,
                    "serial": None,
                    "rota": False,
                    "tran": "nvme",
                    "mountpoints": ["/boot/efi"],
                },
                {
                    "name": "nvme0n1p2",
                    "type": "part",
                    "size": 999666221056,
                    "model": None,
                    "serial": None,
                    "rota": False,
                    "tran": "nvme",
                    "mountpoints": ["/home", "/"],
                },
            ],
        }
    ]
}

# util-linux 2.31 (Ubuntu 18.04): every value a string, `mountpoint` scalar, padded model.
JSON_OLD = {
    "blockdevices": [
        {
            "name": "sda",
            "type": "disk",
            "size": "500107862016",
            "model": "WDC WD5000AAKX-0",
            "serial": "WD-WCAYUS123456",
            "rota": "1",
            "tran": "sata",
            "mountpoint": None,
            "children": [
                {
                    "name": "sda1",
                    "type": "part",
                    "size": "500106813440",
                    "model": None,
                    "serial": None,
                    "rota": "1",
                    "tran": None,
                    "mountpoint": "/srv",
                }
            ],
        },
        {
            "name": "sdb",
            "type": "disk",
            "size": "16008609792",
            "model": "Cruzer Blade    ",
            "serial": "4C530001",
            "rota": "1",
            "tran": "usb",
            "mountpoint": None,
            "rm": "1",
            "kname": "sdb",
        },
    ]
}


def test_lsblk_reads_the_json_of_new_util_linux() -> None:
    # when
    (nvme,) = parse_lsblk(json.dumps(JSON_NEW, indent=3))
    # then
    assert (nvme.name, nvme.size_bytes, nvme.rotational, nvme.transport) == (
        "nvme0n1",
        1000204886016,
        False,
        "nvme",
    )
    assert (nvme.model, nvme.serial, nvme.mountpoints) == (
        "Samsung SSD 980 PRO 1TB",
        "S5GXNX0T123456",
        [],
    )
    efi, data = nvme.children
    assert (efi.name, efi.size_bytes, efi.mountpoints, efi.model) == (
        "nvme0n1p1",
        512 * MiB,
        ["/boot/efi"],
        None,
    )
    assert data.mountpoints == ["/home", "/"]
    assert (nvme.maj_min, nvme.removable, nvme.read_only) == (None, None, None)


def test_lsblk_reads_the_all_strings_json_of_old_util_linux() -> None:
    # when
    sda, sdb = parse_lsblk(json.dumps(JSON_OLD))
    # then
    assert (sda.size_bytes, sda.rotational, sda.transport, sda.mountpoints) == (
        500107862016,
        True,
        "sata",
        [],
    )
    assert (sda.children[0].mountpoints, sda.children[0].transport) == (["/srv"], None)
    assert sdb.model == "Cruzer Blade"  # lsblk pads models with spaces
    assert (sdb.transport, sdb.removable, sdb.extra) == ("usb", True, {"kname": "sdb"})


def test_lsblk_reads_an_empty_device_list() -> None:
    assert parse_lsblk('{"blockdevices": []}\n') == []


def test_lsblk_reads_human_sizes_in_json_without_b() -> None:
    text = '{"blockdevices": [{"name": "sr0", "type": "rom", "size": "1024M", "rota": true}]}'
    (sr0,) = parse_lsblk(text)
    assert (sr0.size_bytes, sr0.rotational) == (1024 * MiB, True)


# --- bad input -----------------------------------------------------------------------------------

BAD = {
    "not-installed": {LSBLK_KIND: shell_error("lsblk")},
    "truncated-json": {LSBLK_KIND: json.dumps(JSON_NEW)[:120]},
    "json-without-devices": {LSBLK_KIND: '{"devices": []}'},
    "json-rota-word": {LSBLK_KIND: '{"blockdevices": [{"name": "sda", "rota": "maybe"}]}'},
    "json-nameless": {LSBLK_KIND: '{"blockdevices": [{"type": "disk"}]}'},
    "orphan-child": {LSBLK_KIND: "NAME SIZE TYPE\n  └─sda1 1G part\n"},
    "bad-size": {LSBLK_KIND: "NAME SIZE TYPE\nsda 12Q disk\n"},
    "bad-maj-min": {LSBLK_KIND: "NAME MAJ:MIN RM SIZE RO TYPE\nsda eight 0 1G 0 disk\n"},
}


@pytest.mark.parametrize(("kind", "text"), bad_input_cases([LSBLK_KIND], {**EMPTY, **JUNK}, BAD))
def test_lsblk_refuses_bad_input(kind: str, text: str) -> None:
    assert_refused(parse_lsblk, kind, text)


def test_lsblk_names_the_offending_line() -> None:
    error = assert_refused(parse_lsblk, LSBLK_KIND, "NAME SIZE TYPE\nsda 1G disk\nsdb 1X disk\n")
    assert (error.lineno, error.line) == (3, "sdb 1X disk")


# --- property tests ------------------------------------------------------------------------------

TOKENS = ["├─", "└─", "│ ", "|-", "`-", "  ", "NAME", "SIZE", "MAJ:MIN", "1.5G", "0", "1", "\n"]
TOKENS += ['"rota"', "true", "null", '"1"', "[", "]", "{", "}", ",", '"children"', "9" * 40]
tokens = tokens_of(TOKENS, st.integers(min_value=0, max_value=2**70).map(str))


@pytest.mark.parametrize("name", SAMPLES)
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_lsblk_mutated_samples_give_devices_or_a_parse_error(
    name: str, data: st.DataObject
) -> None:
    text = data.draw(mutated(sample(f"tools/{name}"), tokens))
    assert_parses_or_raises(parse_lsblk, LSBLK_KIND, text)


@pytest.mark.parametrize("document", [JSON_NEW, JSON_OLD], ids=["new", "old"])
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_lsblk_mutated_json_gives_devices_or_a_parse_error(
    document: dict[str, object], data: st.DataObject
) -> None:
    text = data.draw(mutated(json.dumps(document, indent=2), tokens))
    assert_parses_or_raises(parse_lsblk, LSBLK_KIND, text)
