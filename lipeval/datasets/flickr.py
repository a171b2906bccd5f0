"""Flickr30k 1k Karpathy test split for image-text retrieval (docs/protocols.md §A.1).

Two official forms are read:

* CLIP_benchmark's `flickr30k_test_karpathy.txt`: a CSV written by `pandas.to_csv` with header
  `image,caption` and one row per (image file name, caption); images under
  `root/flickr30k-images/`. It is parsed as real CSV, so a caption that pandas quoted
  (because it contains a comma) loses its quotes and `""` becomes `"`.
  `quirk_keep_quotes=True` instead reproduces CLIP_benchmark's own parser (each line split on
  `.jpg,`, quotes kept), for bit-exact side-by-side runs.
* BLIP/ALBEF `flickr30k_test.json`: a JSON list of `{"image": "flickr30k-images/xxx.jpg",
  "caption": [...]}` with image paths relative to `root`.

Both give the same records: image ids are paths relative to `root`
(`flickr30k-images/<file>`), images in order of first appearance, captions grouped to them.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from lipeval.datasets.coco import group_blip_entries
from lipeval.datasets.files import find_annotation, read_json, read_text
from lipeval.datasets.records import FileImages, RetrievalData
from lipeval.errors import ConfigError, DataError

CSV_NAME = "flickr30k_test_karpathy.txt"
BLIP_NAME = "flickr30k_test.json"
ANNOTATIONS = {CSV_NAME: "CLIP_benchmark CSV", BLIP_NAME: "BLIP/ALBEF format"}  # in order of preference
LAYOUT = "flickr30k/{flickr30k_test_karpathy.txt | flickr30k_test.json} + flickr30k-images/"
BLIP_SHAPE = '[{"image": "flickr30k-images/xxx.jpg", "caption": ["...", ...]}, ...]'
CSV_HEADER = ["image", "caption"]
CSV_FORMAT = "a CSV with header 'image,caption' (CLIP_benchmark's format)"
JSON_FORMAT = f"a JSON list of entries like {BLIP_SHAPE}"


def _check_header(first: list[str], path: Path) -> None:
    if [h.strip() for h in first] != CSV_HEADER:
        raise DataError(
            f"{path}: line 1 must be the header 'image,caption' (a pandas-written CSV, one row per "
            f"image file name and caption), got {','.join(first)!r}"
        )


def _add(groups: dict[str, list[str]], img: str, cap: str, path: Path, line: int) -> None:
    if not img.strip():
        raise DataError(f"{path}: line {line} has an empty image name")
    if not cap.strip():
        raise DataError(f"{path}: line {line} ({img}) has an empty caption")
    groups.setdefault(img, []).append(cap)


def _read_csv(path: Path) -> dict[str, list[str]]:
    """Real CSV parsing (pandas' quoting undone)."""
    text = read_text(path, CSV_FORMAT, newline="")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    groups: dict[str, list[str]] = {}
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file; expected a CSV with header 'image,caption'")
        _check_header(header, path)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != 2:
                raise DataError(
                    f"{path}: line {reader.line_num} has {len(row)} field(s), expected 2 (image,caption): {row!r}"
                )
            _add(groups, row[0].strip(), row[1], path, reader.line_num)
    except csv.Error as e:
        raise DataError(f"{path}: malformed CSV at line {reader.line_num}: {e}") from None
    return groups


def _read_csv_quirk(path: Path) -> dict[str, list[str]]:
    """CLIP_benchmark's parser: skip line 1, strip each line, split it on '.jpg,' (quotes stay)."""
    lines = read_text(path, CSV_FORMAT).splitlines()
    if not lines:
        raise DataError(f"{path}: empty file; expected a CSV with header 'image,caption'")
    _check_header(lines[0].split(","), path)
    groups: dict[str, list[str]] = {}
    for n, line in enumerate(lines[1:], start=2):
        line = line.strip()
        if not line:
            continue
        parts = line.split(".jpg,")
        if len(parts) != 2:
            raise DataError(
                f"{path}: line {n} does not split into image and caption on '.jpg,' "
                f"(quirk_keep_quotes parser): {line!r}"
            )
        _add(groups, parts[0] + ".jpg", parts[1], path, n)
    return groups


def read_flickr30k_karpathy(
    root: Path,
    annotation: str | None = None,
    quirk_keep_quotes: bool = False,
    images_dir: str = "flickr30k-images",
) -> RetrievalData:
    """Read the Flickr30k Karpathy test split from the CLIP_benchmark CSV or the BLIP JSON.

    `annotation` names the file under `root` (default: the CSV if present, else the JSON); the
    file's content decides the format (a JSON list, or a CSV). `images_dir` is where the CSV's
    image names live. `quirk_keep_quotes` applies to the CSV only.

    Errors: no annotation file -> DataMissing; bad header/CSV/JSON, empty caption or image name,
    missing image files -> DataError; `quirk_keep_quotes` with a JSON file -> ConfigError.
    """
    root = Path(root)
    path = find_annotation(root, annotation, ANNOTATIONS, "Flickr30k Karpathy", LAYOUT)
    head = read_text(path, f"{CSV_FORMAT}, or {JSON_FORMAT}").lstrip()[:1]
    if head in ("[", "{"):
        if quirk_keep_quotes:
            raise ConfigError(
                f"quirk_keep_quotes applies to the CLIP_benchmark CSV {CSV_NAME}, but {path} is a JSON file"
            )
        relpaths, captions = group_blip_entries(read_json(path, JSON_FORMAT, top=list), path, BLIP_SHAPE)
    else:
        groups = _read_csv_quirk(path) if quirk_keep_quotes else _read_csv(path)
        prefix = images_dir.strip("/")
        relpaths = [f"{prefix}/{img}" if prefix else img for img in groups]
        captions = list(groups.values())
    if not relpaths:
        raise DataError(f"{path}: no images listed")
    images = FileImages(root, relpaths)
    images.check_exist(str(path))
    texts = [c for caps in captions for c in caps]
    text_image = [i for i, caps in enumerate(captions) for _ in caps]
    return RetrievalData(images, texts, text_image, source=str(path))
