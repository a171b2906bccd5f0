"""DCI (Densely Captioned Images) long-text retrieval, as LoTLIP defines it (docs/protocols.md §B.1).

Layout under the task folder (the DCI release, unpacked as LoTLIP's instructions say):

    densely_captioned_images/splits.json        {"train": [<annotation file>, ...], "valid": [...], "test": [...]}
    densely_captioned_images/annotations/<annotation file>   {"image", "short_caption", "extra_caption", ...}
    densely_captioned_images/photos/<image>

Every split is used, concatenated in the file's key order (7,805 images): one record per
annotation file, text = short caption, a newline, extra caption. Other annotation keys (masks,
summaries) are not read.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.files import read_json
from lipeval.datasets.records import FileImages, RetrievalData, require_dir, require_file
from lipeval.errors import DataError

BASE = "densely_captioned_images"
LAYOUT = "dci/densely_captioned_images/{splits.json, annotations/<name>.json, photos/<image>}"
SPLITS_SHAPE = '{"train": ["<annotation file>", ...], "valid": [...], "test": [...]}'
TEXT_KEYS = ("short_caption", "extra_caption")
ANNOTATION_SHAPE = "a JSON object with keys image, short_caption, extra_caption"


def _annotation_names(path: Path) -> list[str]:
    splits = read_json(path, f"a non-empty JSON object {SPLITS_SHAPE}", top=dict)
    if not splits:
        raise DataError(f"{path}: expected a non-empty JSON object {SPLITS_SHAPE}, got an empty one")
    names: list[str] = []
    for split, entries in splits.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
            raise DataError(f"{path}: split {split!r} must be a list of annotation file names; expected {SPLITS_SHAPE}")
        names.extend(entries)
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise DataError(f"{path}: annotation file {n!r} is listed twice (splits must be disjoint)")
        seen.add(n)
    if not names:
        raise DataError(f"{path}: every split is empty")
    return names


def _record(path: Path) -> tuple[str, str]:
    """(image name, text) of one annotation file."""
    if not path.is_file():
        raise DataError(f"annotation file {path} is listed in splits.json but missing (expected layout {LAYOUT})")
    ann = read_json(path, ANNOTATION_SHAPE, top=dict)
    for key in ("image", *TEXT_KEYS):
        if key not in ann:
            raise DataError(f"{path}: no key {key!r}; a DCI annotation has image, short_caption and extra_caption")
        if not isinstance(ann[key], str):
            raise DataError(f"{path}: key {key!r} must be a string, got {type(ann[key]).__name__}")
    if not ann["image"].strip():
        raise DataError(f"{path}: key 'image' is empty")
    if not (ann["short_caption"].strip() or ann["extra_caption"].strip()):
        raise DataError(f"{path}: both short_caption and extra_caption are empty")
    return ann["image"], f"{ann['short_caption']}\n{ann['extra_caption']}"


def read_dci(root: Path, expected_images: int | None = None) -> RetrievalData:
    """Read DCI for long-text retrieval: one caption per image, in splits.json order.

    `expected_images` (7,805 for the release) guards against a partial copy: a different count
    is a DataError. Errors: no splits.json -> DataMissing; malformed JSON, a missing or malformed
    annotation, a duplicate entry or a missing photo -> DataError naming the file.
    """
    base = Path(root) / BASE
    require_dir(base, LAYOUT)
    splits_path = require_file(base / "splits.json", LAYOUT)
    images, texts = [], []
    for name in _annotation_names(splits_path):
        image, text = _record(base / "annotations" / name)
        images.append(f"photos/{image}")
        texts.append(text)
    if expected_images is not None and len(images) != expected_images:
        raise DataError(f"{splits_path}: lists {len(images)} annotations; the DCI release has {expected_images}")
    files = FileImages(base, images)
    files.check_exist(str(splits_path))
    return RetrievalData(files, texts, list(range(len(texts))), source=str(splits_path))
