"""SUN397 with its official train/test partitions (the CLIP paper's 19,850 / 19,850 images):

    <root>/SUN397/ClassName.txt               one class per line, e.g. /a/abbey, /a/apartment_building/outdoor
    <root>/SUN397/<letter>/<class>/.../sun_*.jpg    (SUN397.tar.gz extracted)
    <root>/Partitions/{Training,Testing}_NN.txt     (Partitions.zip extracted; NN = 01..10), one image path
                                                    per line, e.g. /a/abbey/sun_aaalbzqrimafwbiv.jpg

Split "train" reads Training_NN.txt, "test" Testing_NN.txt, for partition `partition` (default 1). An image's
class is the folder part of its path, which must be a line of ClassName.txt; labels follow ClassName.txt's
order. Class names as clip-benchmark gives them: the path without its letter, '_' and '/' as spaces.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import templates_for
from lipeval.datasets.folder import read_lines
from lipeval.datasets.records import ClassificationData, FileImages, require_file
from lipeval.errors import ConfigError, DataError

LAYOUT = ("<root>/SUN397/{ClassName.txt, <letter>/<class>/sun_*.jpg} (SUN397.tar.gz) and "
          "<root>/Partitions/{Training,Testing}_01.txt (Partitions.zip)")


def read_sun397(root: Path, split: str = "test", partition: int = 1) -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"sun397: split {split!r} is not one of train, test")
    if not 1 <= int(partition) <= 10:
        raise ConfigError(f"sun397: partition {partition!r} is not one of 1..10")
    root = Path(root)
    class_file = require_file(root / "SUN397" / "ClassName.txt", LAYOUT)
    part_file = require_file(root / "Partitions" / f"{'Training' if split == 'train' else 'Testing'}_"
                                                  f"{int(partition):02d}.txt", LAYOUT)
    classes = [c for _, c in read_lines(class_file)]
    index = {c: i for i, c in enumerate(classes)}
    relpaths, labels = [], []
    for n, path in read_lines(part_file):
        folder = path.rsplit("/", 1)[0]
        if folder not in index:
            raise DataError(f"{part_file}: line {n}: {path!r} is in folder {folder!r}, which is not a class of "
                            f"{class_file}")
        relpaths.append("SUN397" + path if path.startswith("/") else f"SUN397/{path}")
        labels.append(index[folder])
    if not relpaths:
        raise DataError(f"{part_file}: no image paths")
    images = FileImages(root, relpaths)
    images.check_exist(str(part_file))
    names = [c[3:].replace("_", " ").replace("/", " ") for c in classes]
    return ClassificationData(images, np.asarray(labels, dtype=np.int64), names, templates_for("sun397"),
                              source=str(part_file), extra={"partition": int(partition)})
