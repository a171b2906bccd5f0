"""What single clip-benchmark sets need beyond the builder's generic path, one small function per set.

Looked up by set name: a check before the builder runs, a stable image order, labels read from the
set's own attributes, a fix of the labels the builder gives. A set with a new quirk adds a function
and an entry in one of these tables, never a branch in the reader.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from lipeval.errors import DataError

IMAGENETV2_FILES = 10_000


# --------------------------------------------------------------------------------------
# Checks before the builder runs: (root, table entry) -> None or an error
# --------------------------------------------------------------------------------------

def _imagenetv2_file_count(root: Path, spec: dict) -> None:
    folder = root / "ImageNetV2-matched-frequency"
    n = sum(1 for _ in folder.glob("**/*.jpeg"))
    if n != IMAGENETV2_FILES:
        # clip-benchmark would download the archive in this case; refuse instead.
        raise DataError(
            f"{folder} holds {n} .jpeg files, expected exactly {IMAGENETV2_FILES:,} "
            f"({spec['layout']})"
        )


CHECKS: dict[str, Callable[[Path, dict], None]] = {"imagenetv2": _imagenetv2_file_count}


# --------------------------------------------------------------------------------------
# Stable order: sets whose file lists come from a filesystem walk are put in sorted path order
# --------------------------------------------------------------------------------------

def _sort_imagenetv2(ds: Any) -> None:
    ds.fnames = sorted(ds.fnames)


def _sort_sun397(ds: Any) -> None:
    pairs = sorted(zip(ds._image_files, ds._labels), key=lambda p: str(p[0]))
    ds._image_files = [p[0] for p in pairs]
    ds._labels = [p[1] for p in pairs]


ORDER: dict[str, Callable[[Any], None]] = {"imagenetv2": _sort_imagenetv2, "sun397": _sort_sun397}


# --------------------------------------------------------------------------------------
# Labels a set holds somewhere other than the generic attributes: (dataset, root) -> (labels, source)
# --------------------------------------------------------------------------------------

def _voc_labels(ds: Any, root: Path) -> tuple[np.ndarray, str]:
    lab = ds.labels
    lab = lab.numpy() if hasattr(lab, "numpy") else np.asarray(lab)
    return (lab > 0).astype(np.int64), "labels"


def _imagenet1k_labels(ds: Any, root: Path) -> tuple[np.ndarray, str]:
    """Folder positions mapped through the wnid folder names, so they stay right if folders are missing."""
    from clip_benchmark.datasets.builder import all_imagenet_wordnet_ids

    order = {w: i for i, w in enumerate(all_imagenet_wordnet_ids)}
    unknown = [w for w in ds.wnids if w not in order]
    if unknown:
        raise DataError(f"imagenet1k: folders {unknown[:3]} under {root} are not ImageNet-1k wnids")
    remap = np.asarray([order[w] for w in ds.wnids], dtype=np.int64)
    return remap[np.asarray(ds.targets, dtype=np.int64)], "targets via wnid"


def _imagenetv2_labels(ds: Any, root: Path) -> tuple[np.ndarray, str]:
    return np.asarray([int(p.parent.name) for p in ds.fnames], dtype=np.int64), "fnames"


def _pcam_labels(ds: Any, root: Path) -> tuple[np.ndarray, str]:
    import h5py

    fname = {"train": "train", "val": "valid", "test": "test"}[ds._split]
    with h5py.File(root / "pcam" / f"camelyonpatch_level_2_split_{fname}_y.h5", "r") as f:
        return np.asarray(f["y"][:]).reshape(-1).astype(np.int64), "y.h5"


LABELS: dict[str, Callable[[Any, Path], tuple[np.ndarray, str]]] = {
    "voc2007_multilabel": _voc_labels,
    "imagenet1k": _imagenet1k_labels,
    "imagenetv2": _imagenetv2_labels,
    "pcam": _pcam_labels,
}


# --------------------------------------------------------------------------------------
# Label fixes: (dataset, labels) -> (labels, a note for the record or None)
# --------------------------------------------------------------------------------------

def _flowers_zero_based(ds: Any, labels: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Current torchvision labels are 0-based; clip-benchmark's shift for old versions (decided from the
    first item's label) is not reproduced."""
    if len(labels) and labels.min() >= 1 and labels.max() == len(ds.classes):
        labels = labels - 1
    if getattr(ds, "target_transform", None) is not None:
        return labels, "clip-benchmark's label shift for old torchvision was triggered and is not applied"
    return labels, None


LABEL_FIXES: dict[str, Callable[[Any, np.ndarray], tuple[np.ndarray, str | None]]] = {
    "flowers": _flowers_zero_based,
}
