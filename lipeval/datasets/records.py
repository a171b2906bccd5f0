"""The plain typed records every dataset reader returns.

A reader turns an official on-disk format into one of these; a task kind turns them plus
embeddings into metrics. Order is stable and ids are kept next to the data, so cached
embeddings line up with records by position.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from lipeval.errors import DataError, DataMissing


def strings_digest(parts: Sequence[str], length: int = 16) -> str:
    """A hash of a list of strings (each one NUL-terminated, so ["ab", "c"] and ["a", "bc"] differ): the
    identity of records (16 hex digits) and of text lists in the embedding cache (32)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:length]


SAMPLED_FILES = 16  # files whose bytes join a file set's fingerprint
SAMPLED_BYTES = 256 * 1024  # read from the start of each sampled file


def sampled(n: int) -> list[int]:
    """Up to SAMPLED_FILES evenly spaced positions of n: all of them, or the first, the last and between."""
    if n <= SAMPLED_FILES:
        return list(range(n))
    return sorted({round(k * (n - 1) / (SAMPLED_FILES - 1)) for k in range(SAMPLED_FILES)})


def files_fingerprint(files: Sequence[tuple[str, Path]], extra: Sequence[str] = ()) -> str:
    """The identity of a set of files that survives moving or copying them: `extra`, then each file's name
    (relative to the set's folder) with its size, in order, then the bytes (the first SAMPLED_BYTES) of up
    to SAMPLED_FILES evenly spaced files, so that files of equal names and sizes but other content differ.
    No absolute path enters it: data staged to another folder keeps its cached embeddings."""
    parts = list(extra)
    for name, path in files:
        try:
            parts.append(f"{name}:{os.stat(path).st_size}")
        except OSError:
            parts.append(f"{name}:missing")
    for i in sampled(len(files)):
        try:
            with open(files[i][1], "rb") as f:
                parts.append(hashlib.sha256(f.read(SAMPLED_BYTES)).hexdigest())
        except OSError:
            parts.append("unreadable")
    return strings_digest(parts)


def open_rgb(path: Path):
    """Open an image file as RGB, or raise DataError naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"cannot decode image file {path}: {e}") from None


class ImageSet:
    """An ordered set of images with stable string ids.

    `load(i)` returns an RGB PIL image (every set, webdataset shards included, reads by index).
    `fingerprint()` identifies the content for the embedding cache; a run asks for it several times per
    task (one cache key per feature kind, the record), so it is computed once, by `compute_fingerprint()`.
    """

    def __init__(self, ids: Sequence[str]):
        self.ids = list(ids)
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, i: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self.compute_fingerprint()
        return self._fingerprint

    def compute_fingerprint(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def subset(self, n: int) -> "ImageSet":
        """The first n images (for --limit)."""
        raise NotImplementedError


class FileImages(ImageSet):
    """Images stored as files: `root / relpath` for each relpath (the id)."""

    def __init__(self, root: Path | str, relpaths: Sequence[str]):
        super().__init__(relpaths)
        self.root = Path(root)

    def path(self, i: int) -> Path:
        return self.root / self.ids[i]

    def load(self, i: int):
        return open_rgb(self.path(i))

    def check_exist(self, what: str) -> None:
        """Raise DataError listing the first missing files (`what` names the annotation file)."""
        missing = [r for r in self.ids if not (self.root / r).is_file()]
        if missing:
            show = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise DataError(
                f"{len(missing)} of {len(self.ids)} images listed in {what} are missing under {self.root}: {show}"
            )

    def compute_fingerprint(self) -> str:
        """Relative paths, sizes and sampled bytes (`files_fingerprint`): cheap, and portable."""
        return files_fingerprint([(r, self.root / r) for r in self.ids])

    def subset(self, n: int) -> "FileImages":
        return FileImages(self.root, self.ids[:n])


class IndexedImages(ImageSet):
    """Images served by a map-style dataset (e.g. a torchvision dataset built with transform=None).

    `get(i)` returns a PIL image; `key` names the dataset and split for the cache.
    """

    def __init__(self, get: Callable[[int], object], n: int, key: str):
        super().__init__([str(i) for i in range(n)])
        self._get = get
        self.key = key  # the dataset and split, e.g. "clip_benchmark:cifar10:test"

    def load(self, i: int):
        im = self._get(i)
        return im.convert("RGB") if hasattr(im, "convert") else im

    def compute_fingerprint(self) -> str:
        """`key`, the length and the decoded pixels of the `sampled` images: like `files_fingerprint`, no
        path enters it (the dataset class, not lipeval, knows which files it reads)."""
        parts = [self.key, str(len(self))]
        for i in sampled(len(self)):
            im = self.load(i)
            parts.append(f"{im.size}:{hashlib.sha256(im.tobytes()).hexdigest()}")
        return strings_digest(parts)

    def subset(self, n: int) -> "IndexedImages":
        return IndexedImages(self._get, min(n, len(self)), f"{self.key}[:{n}]")


class Records(Protocol):
    """What every reader returns (`RetrievalData`, `ClassificationData`, `ProbeData`, `ChoiceData`,
    `ImageRetrievalData`): its kind (`lipeval.kinds.kind_for_records`) scores it."""

    source: str  # the annotation file or folder read, for messages and the record

    def fingerprint(self) -> str:
        """The identity of what the metrics depend on (the record's dataset.fingerprint)."""
        ...

    def limit(self, n: int) -> Records:
        """The first n images and what belongs to them (`--limit`)."""
        ...


@dataclass
class RetrievalData:
    """Image-text retrieval: every text belongs to exactly one image.

    `text_image[t]` is the index (into `images`) of the image that text t describes.
    """

    images: ImageSet
    texts: list[str]
    text_image: list[int]
    source: str = ""  # the annotation file read, for messages and the result record

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.text_image):
            raise DataError(f"{self.source}: {len(self.texts)} captions but {len(self.text_image)} image links")
        n = len(self.images)
        bad = [i for i in self.text_image if not 0 <= i < n]
        if bad:
            raise DataError(f"{self.source}: caption points at image index {bad[0]}, but there are {n} images")

    def fingerprint(self) -> str:
        """Images, captions and their links: what the metrics depend on."""
        return strings_digest([self.images.fingerprint(), *self.texts, ",".join(map(str, self.text_image))])

    def limit(self, n: int) -> "RetrievalData":
        """The first n images and their captions."""
        keep = [t for t, i in enumerate(self.text_image) if i < n]
        return RetrievalData(
            self.images.subset(n), [self.texts[t] for t in keep], [self.text_image[t] for t in keep], self.source
        )


@dataclass
class ClassificationData:
    """Labelled images plus the class names and prompt templates for zero-shot use.

    `labels` is (N,) int for single-label sets or (N, C) {0,1} for multi-label sets.
    `templates` is a list of strings with `{c}`, or a dict class name -> prompts (CuPL style).
    """

    images: ImageSet
    labels: np.ndarray
    classnames: list[str]
    templates: list[str] | dict[str, list[str]]
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def multilabel(self) -> bool:
        return self.labels.ndim == 2

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels)
        if len(self.labels) != len(self.images):
            raise DataError(f"{self.source}: {len(self.images)} images but {len(self.labels)} labels")
        if not self.classnames:
            raise DataError(f"{self.source}: no class names")
        if isinstance(self.templates, dict):
            missing = [c for c in self.classnames if c not in self.templates]
            if missing:
                raise DataError(f"{self.source}: per-class prompts missing for classes {missing[:5]}")
        elif not self.templates:
            raise DataError(f"{self.source}: no prompt templates")
        if len(self.labels) and not self.multilabel:
            lo, hi = int(self.labels.min()), int(self.labels.max())
            if lo < 0 or hi >= len(self.classnames):
                raise DataError(
                    f"{self.source}: label {hi if hi >= len(self.classnames) else lo} outside "
                    f"0..{len(self.classnames) - 1} ({len(self.classnames)} class names)"
                )

    def fingerprint(self) -> str:
        """Images, labels and class names."""
        return strings_digest([self.images.fingerprint(), hashlib.sha256(self.labels.tobytes()).hexdigest(),
                        str(self.labels.shape), *self.classnames])

    def limit(self, n: int) -> "ClassificationData":
        return ClassificationData(
            self.images.subset(n), self.labels[:n], self.classnames, self.templates, self.source, self.extra
        )


def require_file(path: Path, layout: str) -> Path:
    """Return path if it is a file, else raise DataMissing naming it and the expected layout."""
    if not path.is_file():
        raise DataMissing(f"expected file {path} ({layout})")
    return path


def require_dir(path: Path, layout: str) -> Path:
    if not path.is_dir():
        raise DataMissing(f"expected folder {path} ({layout})")
    return path
