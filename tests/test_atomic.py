"""Atomic writes: the whole file or the old one, never a half-written one or a stray temporary file."""
import os

import pytest

from lipeval.atomic import atomic_write_bytes, atomic_write_text


def test_writes_create_folders_and_replace_the_old_file(tmp_path):
    target = tmp_path / "a" / "b" / "record.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "néw\n")
    assert target.read_bytes() == "néw\n".encode("utf-8")
    assert list(target.parent.iterdir()) == [target]


def test_failed_write_leaves_no_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "x" / "entry.npy"

    def boom(fd):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-write

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"data")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
