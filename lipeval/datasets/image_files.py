"""The image file types lipeval reads, in one place: class folders, listed folders and webdataset samples
(evaluation and training) all accept the same ones, so a data set never reads differently by reader."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

# File extensions (lower case, no dot), which are also the webdataset field names of an image.
IMAGE_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "bmp")


def is_image_file(path: Path) -> bool:
    """Whether the name of `path` ends in one of IMAGE_EXTENSIONS, in any case (the name only is looked at)."""
    return Path(path).suffix[1:].lower() in IMAGE_EXTENSIONS


def shown_extensions() -> str:
    """The accepted extensions for error messages: `.bmp, .jpeg, ...`."""
    return ", ".join(f".{e}" for e in sorted(IMAGE_EXTENSIONS))


def image_fields(preferred: Sequence[str] = ()) -> tuple[str, ...]:
    """IMAGE_EXTENSIONS as webdataset fields, in the order a sample's image is looked for.

    `preferred` is a format's own order for a sample that holds several images (CLIP_benchmark's
    shards: webp, png, jpg, jpeg); the other accepted extensions follow in IMAGE_EXTENSIONS order.
    """
    unknown = [f for f in preferred if f not in IMAGE_EXTENSIONS]
    if unknown:
        raise ValueError(f"{unknown} are not image extensions lipeval reads ({', '.join(IMAGE_EXTENSIONS)})")
    return tuple(preferred) + tuple(e for e in IMAGE_EXTENSIONS if e not in preferred)
