"""GPR1200 image-to-image retrieval set (docs/protocols.md §F.1).

Layout: `gpr1200/images/` holding 12,000 files named `{categoryID}_{originalName}.jpg` (1,200 categories of
10 images; ids 0-1199 in six domain blocks of 200). The category is the integer before the first `_`.

Order: by category id, then by file name. The reference sorts by category id only and keeps the directory
listing order inside a category, which depends on the file system; within a category the order changes
no AP (except among exactly tied scores under `tie_policy=reference`).
"""
from __future__ import annotations

import re
from pathlib import Path

from lipeval.datasets.image_retrieval_records import ImageRetrievalData
from lipeval.datasets.records import FileImages, require_dir
from lipeval.errors import DataError

LAYOUT = "gpr1200/images/{categoryID}_{name}.jpg (12,000 files, 1,200 categories x 10, ids 0-1199)"
N_CATEGORIES = 1200
_NAME = re.compile(r"^(\d+)_(.+)$")


def read_gpr1200(root: Path, images_dir: str = "images") -> ImageRetrievalData:
    """Every file of `root/images_dir` (hidden files aside) with its category id from the file name.

    Errors: no folder -> DataMissing; an empty folder, a file name without `{id}_` or an id outside 0-1199
    -> DataError naming the file.
    """
    folder = require_dir(Path(root) / images_dir, f"expected layout {LAYOUT}")
    entries = []
    for p in folder.iterdir():
        if p.name.startswith("."):
            continue
        m = _NAME.match(p.name)
        if not m or not p.is_file():
            raise DataError(f"{p}: not a GPR1200 image; expected files named {{categoryID}}_{{name}}.jpg "
                            f"({LAYOUT})")
        cat = int(m.group(1))
        if not 0 <= cat < N_CATEGORIES:
            raise DataError(f"{p}: category id {cat} outside 0-{N_CATEGORIES - 1} ({LAYOUT})")
        entries.append((cat, p.name))
    if not entries:
        raise DataError(f"{folder}: no images; expected layout {LAYOUT}")
    entries.sort()
    images = FileImages(folder, [name for _, name in entries])
    return ImageRetrievalData(images, [cat for cat, _ in entries], source=str(folder))
