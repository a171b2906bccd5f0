"""Per-set quirks of the clip-benchmark builder path, on stand-ins for the builder's datasets."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from lipeval.datasets import cb_set_quirks as q


def test_filesystem_walks_are_put_in_sorted_path_order():
    sun = SimpleNamespace(_image_files=[Path("b/x.jpg"), Path("a/z.jpg"), Path("a/y.jpg")], _labels=[1, 0, 2])
    q.ORDER["sun397"](sun)
    assert sun._image_files == [Path("a/y.jpg"), Path("a/z.jpg"), Path("b/x.jpg")] and sun._labels == [2, 0, 1]
    inv2 = SimpleNamespace(fnames=[Path("r/17/b.jpeg"), Path("r/0/a.jpeg")])
    q.ORDER["imagenetv2"](inv2)
    assert inv2.fnames == [Path("r/0/a.jpeg"), Path("r/17/b.jpeg")]
    labels, source = q.LABELS["imagenetv2"](inv2, Path("r"))
    assert labels.tolist() == [0, 17] and source == "fnames"


def test_flowers_labels_are_zero_based():
    ds = SimpleNamespace(classes=["a", "b", "c"], target_transform=None)
    labels, note = q.LABEL_FIXES["flowers"](ds, np.array([1, 3, 2]))
    assert labels.tolist() == [0, 2, 1] and note is None
    labels, note = q.LABEL_FIXES["flowers"](ds, np.array([0, 2, 1]))
    assert labels.tolist() == [0, 2, 1]
    ds.target_transform = lambda y: y - 1
    assert "not applied" in q.LABEL_FIXES["flowers"](ds, np.array([0, 1]))[1]
