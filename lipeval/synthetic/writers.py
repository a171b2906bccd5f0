"""Writers for the official on-disk formats the synthetic suite uses.

Everything written here is deterministic: images are encoded in memory with fixed settings
(no metadata, no timestamps) and JSON is written with sorted keys, so the same inputs give
the same bytes.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterable

from PIL import Image

JPEG_QUALITY = 95


def encode_jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def dump_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=True)


def write_json(path: Path, obj, indent: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, sort_keys=True, ensure_ascii=True, indent=indent) + "\n", encoding="utf-8")


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(dump_json(r) + "\n")


def coco_image_name(split: str, image_id: int) -> str:
    """COCO 2014 file name: split is "train" or "val"."""
    return f"COCO_{split}2014_{image_id:012d}.jpg"


def coco_captions(images: list[dict], captions: list[list[str]], description: str) -> dict:
    """A COCO-captions annotation dict (the Karpathy-split files CLIP_benchmark reads).

    `images` are {"id", "file_name", "height", "width"}; `captions[k]` are the captions of
    images[k]. Annotation ids run 1, 2, ... in image order.
    """
    annotations = []
    for img, caps in zip(images, captions, strict=True):
        for c in caps:
            annotations.append({"id": len(annotations) + 1, "image_id": img["id"], "caption": c})
    return {
        "info": {"description": description, "version": "1.0", "contributor": "lipeval.synthetic"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
    }


def write_class_set(root: Path, classes: list[str], classnames: list[str], templates: list[str]) -> None:
    """Create an ImageFolder class set's skeleton: both split folders with every class folder,
    `classnames.txt` (one name per line, in sorted folder order) and `templates.txt`.

    `classes` are folder names; `classnames[k]` is the readable name of `classes[k]`.
    """
    order = sorted(range(len(classes)), key=lambda k: classes[k])
    for split in ("train", "test"):
        for c in classes:
            (root / split / c).mkdir(parents=True, exist_ok=True)
    if any("{c}" not in t for t in templates):
        raise ValueError("every template must contain {c}")
    (root / "classnames.txt").write_text("".join(classnames[k] + "\n" for k in order), encoding="utf-8")
    (root / "templates.txt").write_text("".join(t + "\n" for t in templates), encoding="utf-8")
