"""Image-set fingerprints (the embedding cache's data key): the same files anywhere give the same key; other
names, sizes or bytes give another."""
from __future__ import annotations

import shutil

from lipeval.datasets import records
from lipeval.datasets.choice_records import CroppedImages
from lipeval.datasets.records import FileImages, files_fingerprint


def _bmp_set(fx, root, colors):
    """Uncompressed BMPs: every file has the same size whatever its colour."""
    return [fx.write_image(root / "img" / f"{i}.bmp", c).relative_to(root).as_posix() for i, c in enumerate(colors)]


def test_moved_or_copied_files_keep_their_fingerprint(fx, tmp_path):
    rel = _bmp_set(fx, tmp_path / "a", [(1, 2, 3), (4, 5, 6), (7, 8, 9)])
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "b")
    here, there = FileImages(tmp_path / "a", rel), FileImages(tmp_path / "elsewhere" / "b", rel)
    assert here.fingerprint() == there.fingerprint()
    boxes = [(0, 0, 4, 4)] * 3
    assert CroppedImages(tmp_path / "a", rel, boxes).fingerprint() == \
        CroppedImages(tmp_path / "elsewhere" / "b", rel, boxes).fingerprint()
    assert CroppedImages(tmp_path / "a", rel, boxes).fingerprint() != \
        CroppedImages(tmp_path / "a", rel, [(0, 0, 4, 5)] * 3).fingerprint()


def test_names_sizes_and_bytes_each_change_it(fx, tmp_path):
    rel = _bmp_set(fx, tmp_path / "a", [(1, 2, 3), (4, 5, 6), (7, 8, 9)])
    base = FileImages(tmp_path / "a", rel).fingerprint()
    other = _bmp_set(fx, tmp_path / "b", [(1, 2, 3), (4, 5, 6), (7, 8, 10)])  # same names and sizes, one pixel
    assert other == rel and FileImages(tmp_path / "b", rel).fingerprint() != base
    assert FileImages(tmp_path / "a", rel[::-1]).fingerprint() != base  # order is part of it
    fx.write_image(tmp_path / "a" / rel[1], (4, 5, 6), size=9)
    assert FileImages(tmp_path / "a", rel).fingerprint() != base
    (tmp_path / "a" / rel[2]).unlink()
    assert FileImages(tmp_path / "a", rel).fingerprint() != FileImages(tmp_path / "b", rel).fingerprint()


def test_large_sets_sample_evenly_spaced_files(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "SAMPLED_FILES", 4)
    files = []
    for i in range(10):
        (tmp_path / f"{i}.bin").write_bytes(b"x" * 8)
        files.append((f"{i}.bin", tmp_path / f"{i}.bin"))
    base = files_fingerprint(files)
    read = []
    real_open = open

    def spy(path, mode="r", *a, **kw):
        read.append(path.name)
        return real_open(path, mode, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr("builtins.open", spy)
        assert files_fingerprint(files) == base
    assert read == ["0.bin", "3.bin", "6.bin", "9.bin"]  # the first, the last and evenly between
    (tmp_path / "6.bin").write_bytes(b"y" * 8)  # a sampled file: the key changes
    assert files_fingerprint(files) != base
    (tmp_path / "6.bin").write_bytes(b"x" * 8)
    (tmp_path / "5.bin").write_bytes(b"y" * 8)  # an unsampled file of the same size: only its size is seen
    assert files_fingerprint(files) == base


def test_extra_parts_enter_it(tmp_path):
    (tmp_path / "f").write_bytes(b"1")
    keys = {files_fingerprint([("f", tmp_path / "f")], extra) for extra in ([], ["a"], ["b"])}
    assert len(keys) == 3


def test_a_set_reads_its_files_once(fx, tmp_path, monkeypatch):
    rel = _bmp_set(fx, tmp_path / "a", [(1, 2, 3), (4, 5, 6)])
    images, calls = FileImages(tmp_path / "a", rel), []
    real = records.files_fingerprint
    monkeypatch.setattr(records, "files_fingerprint", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    assert images.fingerprint() == images.fingerprint() == images.fingerprint() and len(calls) == 1
    assert FileImages(tmp_path / "a", rel).fingerprint() == images.fingerprint() and len(calls) == 2
