"""Urban-1k long-text retrieval (docs/protocols.md §B.1; Long-CLIP's release).

Layout under the task folder:

    urban1k/caption/<name>.txt      the caption is the first line of the file
    urban1k/image/<name>.jpg        the image with the same name

Records are paired by name and ordered by caption file name (sorted), so the order is stable
on every file system (the reference scripts take whatever `os.listdir` returns; the metric does
not depend on the order). A caption without its image, or an image without its caption, is a
DataError: the set must pair one to one.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.records import FileImages, RetrievalData, require_dir
from lipeval.errors import DataError

LAYOUT = "urban1k/{caption/<name>.txt, image/<name>.jpg}"


def _first_line(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e})") from None
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if not first:
        raise DataError(f"{path}: the first line (the caption) is empty")
    return first


def _show(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def read_urban1k(root: Path, expected_images: int | None = None) -> RetrievalData:
    """Read Urban-1k: one caption per image, paired by file name, sorted by name.

    `expected_images` (1,000 for the release) guards against a partial copy. Errors: no
    caption/ or image/ folder -> DataMissing; an unpaired file, an empty caption or a count
    other than `expected_images` -> DataError.
    """
    root = Path(root)
    cap_dir = require_dir(root / "caption", LAYOUT)
    img_dir = require_dir(root / "image", LAYOUT)
    captions = sorted(p for p in cap_dir.iterdir() if p.suffix == ".txt" and not p.name.startswith("."))
    stems = [p.stem for p in captions]
    images = {p.stem for p in img_dir.iterdir() if p.suffix == ".jpg" and not p.name.startswith(".")}
    if not captions:
        raise DataError(f"{cap_dir}: no caption files (<name>.txt); expected layout {LAYOUT}")
    no_image = [f"{s}.jpg" for s in stems if s not in images]
    if no_image:
        raise DataError(f"{img_dir}: {len(no_image)} caption(s) have no image: {_show(no_image)}")
    no_caption = sorted(f"{s}.txt" for s in images - set(stems))
    if no_caption:
        raise DataError(f"{cap_dir}: {len(no_caption)} image(s) have no caption: {_show(no_caption)}")
    if expected_images is not None and len(stems) != expected_images:
        raise DataError(f"{cap_dir}: {len(stems)} captions; Urban-1k has {expected_images}")
    texts = [_first_line(p) for p in captions]
    files = FileImages(root, [f"image/{s}.jpg" for s in stems])
    return RetrievalData(files, texts, list(range(len(texts))), source=str(cap_dir))
