"""Sets read through clip-benchmark's `build_dataset` (the torchvision-backed ones): built with downloads
refused, the builder's and torchvision's errors turned into lipeval's, labels read without decoding images.

Class names and templates are the builder's own (`ds.classes`, `ds.templates`). Images come from the
builder's dataset with `transform=None`; labels from the attributes the dataset already holds
(`targets`, `_labels`, `_samples`, ...), or from a set's own function in `cb_set_quirks`. Several builder
branches fetch data when a folder is missing (ImageNet and ImageNetV2 via wget/requests, FER2013 via
kaggle) or shell out to external tools; the reader checks the files first, and as a second line of
defence the builder's shell-out (`call`) and ImageNetV2's `requests` refuse while the builder runs.
"""
from __future__ import annotations

import contextlib
import threading
import types
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from lipeval.datasets import cb_set_quirks
from lipeval.datasets.cb_text import fit_templates
from lipeval.datasets.records import ClassificationData, IndexedImages
from lipeval.errors import ConfigError, DataError, DataMissing

_BUILD_LOCK = threading.Lock()


@contextlib.contextmanager
def _downloads_refused(dataset: str, root: Path, layout: str) -> Iterator[None]:
    """Replace the builder's shell-out and ImageNetV2's HTTP client with a refusal while it runs."""
    from clip_benchmark.datasets import builder as cb_builder
    from clip_benchmark.datasets import imagenetv2 as cb_inv2

    def refuse(*args, **kwargs):
        what = str(args[0])[:120] if args else "a download"
        raise DataMissing(
            f"{dataset}: clip-benchmark tried to fetch data ({what}); lipeval never downloads. "
            f"Expected under {root}: {layout}"
        )

    with _BUILD_LOCK:
        saved_call, saved_requests = cb_builder.call, getattr(cb_inv2, "requests", None)
        cb_builder.call = refuse
        cb_inv2.requests = types.SimpleNamespace(get=refuse)
        try:
            yield
        finally:
            cb_builder.call = saved_call
            cb_inv2.requests = saved_requests


def _build(root: Path, dataset: str, split: str, spec: dict, **builder_kwargs: Any) -> Any:
    from clip_benchmark.datasets.builder import build_dataset

    where = f"expected under {root}: {spec['layout']}"
    try:
        with _downloads_refused(dataset, root, spec["layout"]), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*split argument ignored.*")
            return build_dataset(dataset, root=str(root), transform=None, split=split, download=False,
                                 task="zeroshot_classification", **builder_kwargs)
    except (DataMissing, DataError, ConfigError):
        raise
    except FileNotFoundError as e:
        raise DataMissing(f"{dataset}: {e.filename or e} not found ({where})") from None
    except ImportError as e:
        raise DataMissing(f"{dataset}: reading the files under {root} needs {e.name or e} ({e})") from None
    except RuntimeError as e:
        msg = str(e)
        if "not found" in msg.lower() and "corrupt" not in msg.lower():
            raise DataMissing(f"{dataset}: torchvision found no data under {root}: {msg} ({where})") from None
        raise DataError(f"{dataset}: data under {root} is incomplete or corrupted: {msg} ({where})") from None
    except SystemExit:
        raise DataMissing(f"{dataset}: clip-benchmark wanted an external download tool ({where})") from None
    except Exception as e:  # malformed pickles, .mat, XML, CSV, JSON ...
        raise DataError(f"{dataset}: cannot read the data under {root}: {type(e).__name__}: {e} ({where})") from None


class _ImageOf:
    """get(i) for IndexedImages: the image of item i (picklable, unlike a lambda)."""

    def __init__(self, ds):
        self.ds = ds

    def __call__(self, i: int):
        return self.ds[i][0]


def _labels_of(ds: Any, dataset: str, root: Path) -> tuple[np.ndarray, str]:
    """Integer labels (or an (N, C) matrix) and the attribute they came from."""
    own = cb_set_quirks.LABELS.get(dataset)
    if own is not None:
        return own(ds, root)
    n = len(ds)
    for attr in ("targets", "_labels", "labels", "y"):
        v = getattr(ds, attr, None)
        if v is not None and len(v) == n:
            v = v.numpy() if hasattr(v, "numpy") else v
            return np.asarray(v, dtype=np.int64).reshape(n), attr
    for attr in ("_samples", "samples"):
        v = getattr(ds, attr, None)
        if v is not None and len(v) == n:
            return np.asarray([s[1] for s in v], dtype=np.int64), attr
    # Last resort: read every item (decodes the images).
    return np.asarray([int(ds[i][1]) for i in range(n)], dtype=np.int64), "iteration"


def _class_folder_count(ds: Any) -> int | None:
    cats = getattr(ds, "categories", None)
    if cats is not None:
        return len(cats)
    c2i = getattr(ds, "class_to_idx", None)
    return len(c2i) if isinstance(c2i, dict) else None


def read_with_builder(root: Path, dataset: str, split: str, spec: dict, language: str,
                      custom_classname_file: str | None, custom_template_file: str | None) -> ClassificationData:
    """The set `dataset` as clip-benchmark's builder reads it from `root`, its files already checked."""
    kwargs: dict[str, Any] = {"language": language}
    if custom_classname_file:
        kwargs["custom_classname_file"] = custom_classname_file
    if custom_template_file:
        kwargs["custom_template_file"] = custom_template_file
    ds = _build(root, dataset, split, spec, **kwargs)
    fix_order = cb_set_quirks.ORDER.get(dataset)
    if fix_order is not None:
        fix_order(ds)

    expected_folders = spec.get("class_folders")
    if expected_folders is not None:
        found = _class_folder_count(ds)
        if found is not None and found != expected_folders:
            raise DataError(
                f"{dataset}: found {found} class folders under {root}, expected {expected_folders}; the fixed "
                f"class-name list would not line up with the labels ({spec['layout']})"
            )

    labels, label_source = _labels_of(ds, dataset, root)
    extra = {"dataset": dataset, "split": split, "reader": "builder", "label_source": label_source}
    if spec.get("note"):
        extra["note"] = spec["note"]
    fix_labels = cb_set_quirks.LABEL_FIXES.get(dataset)
    if fix_labels is not None:
        labels, note = fix_labels(ds, labels)
        if note:
            extra["note"] = note

    classnames = list(ds.classes)
    return ClassificationData(
        images=IndexedImages(_ImageOf(ds), len(ds), f"clip_benchmark:{dataset}:{split}"),
        labels=labels,
        classnames=classnames,
        templates=fit_templates(dataset, classnames, ds.templates, custom_template_file),
        source=f"clip_benchmark:{dataset} at {root}",
        extra=extra,
    )
