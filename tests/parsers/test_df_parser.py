"""The df parser on captured outputs and on the collector's own command."""

from __future__ import annotations

import pytest

from collectors.parsing import ParseError
from devices.parsers import Filesystem, parse_df
from tests.parser_kit import GiB, KiB, MiB
from tests.samples import sample

# fmt: off
DF_ROWS = [
    # (sample, rows in it, filesystem, size, used, available (bytes), use %, mount point)
    ("jc_df_centos77.out", 7, "/dev/mapper/centos-root",
     17811456 * KiB, 1805580 * KiB, 16005876 * KiB, 11, "/"),
    ("jc_df_centos77.out", 7, "/dev/sda1", 1038336 * KiB, 237600 * KiB, 800736 * KiB, 23, "/boot"),
    ("jc_df_ubuntu1804.out", 18, "/dev/sda2",
     20508240 * KiB, 5748028 * KiB, 13695408 * KiB, 30, "/"),
    ("jc_df_ubuntu1804.out", 18, "/dev/loop0",
     55936 * KiB, 55936 * KiB, 0, 100, "/snap/core18/1223"),
    # df -h: binary units, rounded by df
    ("jc_df_h_ubuntu1804.out", 18, "/dev/sda2", 20 * GiB, int(5.5 * GiB), 14 * GiB, 30, "/"),
    ("jc_df_h_ubuntu1804.out", 18, "tmpfs", 198 * MiB, int(1.2 * MiB), 196 * MiB, 1, "/run"),
]
# fmt: on


@pytest.mark.parametrize(
    ("name", "count", "filesystem", "size", "used", "available", "pct", "mountpoint"), DF_ROWS
)
def test_df_reads_sizes_in_bytes_from_samples(
    name: str,
    count: int,
    filesystem: str,
    size: int,
    used: int,
    available: int,
    pct: int,
    mountpoint: str,
) -> None:
    # when
    filesystems = parse_df(sample(f"tools/{name}"))
    # then
    assert len(filesystems) == count
    by_mount = {f.mountpoint: f for f in filesystems}
    assert by_mount[mountpoint] == Filesystem(
        filesystem, None, size, used, available, pct, mountpoint
    )


def test_df_reads_the_collector_command_with_types_and_byte_blocks() -> None:
    # given the output of `df -P -B1 -T` (GNU coreutils 9.1), plus a share mounted on a path
    # with a space
    text = (
        "Filesystem     Type         1-blocks        Used   Available Capacity Mounted on\n"
        "devtmpfs       devtmpfs  12630519808           0 12630519808       0% /dev\n"
        "/dev/vda       ext4     270553174016 23981404160 84962889728      23% /\n"
        "//nas/share    cifs       1000000000   500000000   500000000      50% /mnt/My Files\n"
    )
    # when
    devtmpfs, root, share = parse_df(text)
    # then
    assert devtmpfs == Filesystem("devtmpfs", "devtmpfs", 12630519808, 0, 12630519808, 0, "/dev")
    assert root == Filesystem("/dev/vda", "ext4", 270553174016, 23981404160, 84962889728, 23, "/")
    assert share.type == "cifs"
    assert share.mountpoint == "/mnt/My Files"


# fmt: off
DF_HEADERS = [
    # (size column of the header, the size value of a row, bytes it means)
    ("1024-blocks", "10", 10 * KiB),  # df -P, df -Pk
    ("512-blocks", "10", 10 * 512),  # POSIXLY_CORRECT
    ("1-blocks", "10", 10),  # df -P -B1
    ("1B-blocks", "10", 10),  # df -B1
    ("1K-blocks", "10", 10 * KiB),  # df
    ("1M-blocks", "10M", 10 * MiB),  # df -BM prints the unit after each value
    ("1kB-blocks", "10", 10_000),  # df -BKB (powers of 1000)
    ("1KiB-blocks", "10KiB", 10 * KiB),
    ("Size", "1.5T", int(1.5 * 1024**4)),  # df -h
]
# fmt: on


@pytest.mark.parametrize(("column", "value", "size_bytes"), DF_HEADERS)
def test_df_takes_the_block_size_from_the_header(column: str, value: str, size_bytes: int) -> None:
    # given
    text = f"Filesystem {column} Used Available Use% Mounted on\n/dev/vda {value} 0 0 50% /\n"
    # when
    (filesystem,) = parse_df(text)
    # then
    assert filesystem.size_bytes == size_bytes
    assert filesystem.mountpoint == "/"


def test_df_joins_a_long_filesystem_name_wrapped_onto_its_own_line() -> None:
    # given non-POSIX df (BusyBox, old coreutils) wrapping a long device name
    text = (
        "Filesystem           1K-blocks      Used Available Use% Mounted on\n"
        "/dev/mapper/vg_very_long_volume_group-lv_root\n"
        "                      17811456   1805580  16005876  11% /\n"
        "tmpfs                   386136         0    386136   0% /run/user/1000\n"
    )
    # when
    root, run_user = parse_df(text)
    # then
    assert root.filesystem == "/dev/mapper/vg_very_long_volume_group-lv_root"
    assert root.size_bytes == 17811456 * KiB
    assert root.mountpoint == "/"
    assert run_user.mountpoint == "/run/user/1000"


def test_df_dashes_are_missing_values_not_zero() -> None:
    # given
    text = "Filesystem Type 1-blocks Used Available Use% Mounted on\nproc proc - - - - /proc\n"
    # when
    (proc,) = parse_df(text)
    # then
    assert proc == Filesystem("proc", "proc", None, None, None, None, "/proc")


def test_df_inode_output_is_a_parse_error() -> None:
    # given `df -i`, whose columns are inode counts
    text = "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda2 1310720 201594 110912 16% /\n"
    # when
    with pytest.raises(ParseError) as caught:
        parse_df(text)
    # then
    assert caught.value.kind == "df"
    assert caught.value.lineno == 1
