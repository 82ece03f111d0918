"""Atomic outputs: regular files replaced whole, symlinks followed, devices and FIFOs written
through, several outputs committed together, unwritable targets reported as OutputError."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dynst_cli import atomic
from dynst_cli.errors import OutputError, UsageError


def test_a_regular_file_is_replaced_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic.write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_symlink_keeps_pointing_at_its_target_which_is_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic.write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic.write_text(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_character_device_is_written_through_never_replaced():
    with atomic.atomic_path("/dev/null", suffix=".png") as tmp:
        tmp.write_bytes(b"a picture nobody keeps")
    atomic.write_text("/dev/null", "text nobody keeps")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_folder_as_target_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        atomic.write_text(tmp_path, "x")


def test_together_replaces_nothing_when_a_later_output_fails(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.png"
    first.write_text("earlier a")
    with pytest.raises(RuntimeError), atomic.together():
        atomic.write_text(first, "new a")
        assert first.read_text() == "earlier a"  # not yet: the block has not finished
        raise RuntimeError("the map failed")
    assert first.read_text() == "earlier a"
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_together_replaces_every_output_at_the_end(tmp_path):
    with atomic.together():
        atomic.write_text(tmp_path / "a.csv", "a")
        atomic.write_text(tmp_path / "b.csv", "b")
    assert (tmp_path / "a.csv").read_text() + (tmp_path / "b.csv").read_text() == "ab"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM])
def test_an_unwritable_target_is_an_output_error_naming_it(tmp_path, monkeypatch, code):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.os, "replace", refuse)
    target = tmp_path / "plan.json"
    target.write_text("earlier")
    with pytest.raises(OutputError, match=f"cannot write {target}") as info:
        atomic.write_json(target, {"a": 1})
    assert info.value.exit_code == 5
    assert target.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_other_os_errors_are_not_disguised_as_output_errors(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic.os, "replace", broken)
    with pytest.raises(OSError) as info:
        atomic.write_text(tmp_path / "x.txt", "x")
    assert not isinstance(info.value, OutputError)


def test_temporary_names_lie_beside_the_target(tmp_path):
    with atomic.atomic_path(tmp_path / "sub" / "d.nc") as tmp:
        assert tmp.parent == tmp_path / "sub" and tmp.suffix == ".nc"
        Path(tmp).write_bytes(b"x")


def test_dev_stdout_is_written_through_its_link(tmp_path):
    out = tmp_path / "captured"
    code = (
        "from dynst_cli import atomic; atomic.write_text('/dev/stdout', 'to stdout\\n');"
        "import pathlib; p = pathlib.Path('/dev/stdout'); assert p.is_symlink() or p.exists()"
    )
    with open(out, "w") as fh:
        subprocess.run([sys.executable, "-c", code], stdout=fh, check=True)
    assert out.read_text() == "to stdout\n"
