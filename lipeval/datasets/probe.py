"""Linear-probe data: the train / (val) / test splits of one classification set, read by any reader.

The runner calls a task's reader once; for the linear probe that reader is `read_probe`, which calls the
underlying reader (`clip_benchmark`, `image_folder`, `wds`, or a probe-only reader) once per split and
returns a `ProbeData`. Sets without an official split (Caltech-101, EuroSAT) are split here, per class and
seeded (`carve`); the split images are rows of the one image set, so they share its embedding-cache entry
with zero-shot on the same set.

Task arguments (under `dataset.args`):

    reader   the underlying reader's name (a key of lipeval.datasets.READERS)
    train    split name of the training images (default "train"); null with `carve`
    val      split name of the set's own validation images, or null (default): the probe then carves a
             seeded validation split from train
    test     split name of the test images (default "test")
    carve    {train_per_class: K, test_per_class: M or null, seed: S}: no official split; take K images
             per class (seeded) from the `test` split for training and M (or all the rest) for testing
    ...      everything else goes to the underlying reader (e.g. dataset: cifar10)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lipeval.datasets.records import ClassificationData, ImageSet, strings_digest
from lipeval.errors import ConfigError, DataError


class RowsImages(ImageSet):
    """The images at positions `rows` of another image set (a split carved out of it)."""

    def __init__(self, parent: ImageSet, rows, limited: bool = False):
        rows = np.asarray(rows, dtype=np.int64)
        super().__init__([parent.ids[i] for i in rows])
        self.parent, self.rows, self.limited = parent, rows, limited

    def load(self, i: int):
        return self.parent.load(int(self.rows[i]))

    def compute_fingerprint(self) -> str:
        return strings_digest([self.parent.fingerprint(), hashlib.sha256(self.rows.tobytes()).hexdigest()])

    def subset(self, n: int) -> "RowsImages":
        return RowsImages(self.parent, self.rows[:n], limited=True)


def take_rows(data: ClassificationData, rows, note: str) -> ClassificationData:
    """The rows `rows` of a classification set, as a set of its own whose images point into the original."""
    rows = np.asarray(rows, dtype=np.int64)
    return ClassificationData(RowsImages(data.images, rows), data.labels[rows], data.classnames, data.templates,
                              f"{data.source} [{note}]", dict(data.extra))


@dataclass
class ProbeData:
    """Train, optional validation, and test splits of one classification set (same classes in each)."""

    train: ClassificationData
    test: ClassificationData
    val: ClassificationData | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        splits = [("train", self.train), ("test", self.test)] + ([("val", self.val)] if self.val else [])
        for name, d in splits[1:]:
            if list(d.classnames) != list(self.train.classnames):
                raise DataError(f"{self.source}: the {name} split's classes differ from the train split's "
                                f"({len(d.classnames)} vs {len(self.train.classnames)} names, first difference "
                                f"{_first_difference(d.classnames, self.train.classnames)})")
            if d.multilabel != self.train.multilabel:
                raise DataError(f"{self.source}: the {name} split is {'' if d.multilabel else 'not '}multi-label "
                                f"but the train split is {'' if self.train.multilabel else 'not '}")
            folders, train_folders = d.extra.get("class_folders"), self.train.extra.get("class_folders")
            if folders is not None and train_folders is not None and folders != train_folders:
                raise DataError(f"{self.source}: the {name} split's class folders differ from the train split's "
                                f"(first difference {_first_difference(folders, train_folders)}); labels would not "
                                f"line up")

    @property
    def classnames(self) -> list[str]:
        return self.train.classnames

    @property
    def multilabel(self) -> bool:
        return self.train.multilabel

    def splits(self) -> dict[str, ClassificationData]:
        out = {"train": self.train}
        if self.val is not None:
            out["val"] = self.val
        out["test"] = self.test
        return out

    def fingerprint(self) -> str:
        return strings_digest([f"{k}={d.fingerprint()}" for k, d in self.splits().items()])

    def limit(self, n: int) -> "ProbeData":
        """The first n images of every split (for --limit smoke runs)."""
        return ProbeData(self.train.limit(n), self.test.limit(n), self.val.limit(n) if self.val else None,
                         self.source, {**self.extra, "limit": n})


def _first_difference(a, b) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"at {i}: {x!r} vs {y!r}"
    return f"lengths {len(a)} vs {len(b)}"


def carve_per_class(labels: np.ndarray, classnames: list[str], train_per_class: int, test_per_class: int | None,
                    seed: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split of single-label data: (train rows, test rows), each sorted.

    Per class, its rows are shuffled by a generator seeded with (seed, class index); the first
    `train_per_class` go to train, the next `test_per_class` (all the rest when None) to test. A class with too
    few images is a DataError naming it.
    """
    if labels.ndim != 1:
        raise ConfigError(f"{source}: carve needs single-label data")
    train, test = [], []
    for c, name in enumerate(classnames):
        rows = np.flatnonzero(labels == c)
        need = train_per_class + (test_per_class or 1)
        if len(rows) < need:
            raise DataError(f"{source}: class {name!r} has {len(rows)} images; the split needs {need} "
                            f"({train_per_class} train + {test_per_class or 'at least 1'} test)")
        rows = np.random.default_rng([seed, c]).permutation(rows)
        train.append(rows[:train_per_class])
        test.append(rows[train_per_class:] if test_per_class is None else
                    rows[train_per_class:train_per_class + test_per_class])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def read_probe(root: Path, reader: str, train: str | None = "train", test: str = "test", val: str | None = None,
               carve: dict | None = None, **reader_args) -> ProbeData:
    """Read the probe's splits with the underlying reader `reader` (see the module docstring)."""
    from lipeval.datasets import READERS, get_reader

    if reader not in READERS or reader == "probe":
        raise ConfigError(f"probe reader: unknown underlying reader {reader!r} (known: "
                          f"{', '.join(r for r in READERS if r != 'probe')})")
    read = get_reader(reader)
    where = f"{reader} at {root}"
    if carve is not None:
        unknown = set(carve) - {"train_per_class", "test_per_class", "seed"}
        if unknown or "train_per_class" not in carve:
            raise ConfigError(f"probe reader: carve takes train_per_class, test_per_class and seed "
                              f"(got {sorted(carve)})")
        if train is not None:
            raise ConfigError("probe reader: give either a train split or carve, not both")
        whole = read(root, split=test, **reader_args)
        k, m, seed = int(carve["train_per_class"]), carve.get("test_per_class"), int(carve.get("seed", 0))
        tr, te = carve_per_class(whole.labels, whole.classnames, k, None if m is None else int(m), seed,
                                 whole.source or where)
        note = f"seeded per-class split (seed {seed}): {k} train/class, {m if m is not None else 'the rest'} test/class"
        return ProbeData(take_rows(whole, tr, f"train: {note}"), take_rows(whole, te, f"test: {note}"), None,
                         whole.source or where, {"split": note, "reader": reader})
    if train is None:
        raise ConfigError("probe reader: train split is null but no carve is given")
    data_train = read(root, split=train, **reader_args)
    data_val = read(root, split=val, **reader_args) if val is not None else None
    data_test = read(root, split=test, **reader_args)
    return ProbeData(data_train, data_test, data_val, data_test.source or where,
                     {"splits": {"train": train, "val": val, "test": test}, "reader": reader})
