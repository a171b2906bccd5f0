"""CLEVR counts (VTAB's count_all task): the number of objects in a CLEVR scene, 3..10 (8 classes).

    <root>/CLEVR_v1.0/scenes/CLEVR_{train,val}_scenes.json   {"scenes": [{"image_filename", "objects", ...}]}
    <root>/CLEVR_v1.0/images/{train,val}/CLEVR_<split>_NNNNNN.png      (CLEVR_v1.0.zip extracted)

Split "train" is CLEVR's train set, "test" its val set (CLEVR's test set has no scenes). Label = number of
objects - 3; class names and the template are clip-benchmark's `clevr_count_all`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import classnames_for, templates_for
from lipeval.datasets.files import read_json
from lipeval.datasets.records import ClassificationData, FileImages, require_file
from lipeval.errors import ConfigError, DataError

LAYOUT = ("<root>/CLEVR_v1.0/{scenes/CLEVR_{train,val}_scenes.json, images/{train,val}/CLEVR_*.png} "
          "(CLEVR_v1.0.zip extracted)")
MIN_OBJECTS, MAX_OBJECTS = 3, 10
SCENES_SHAPE = "a JSON object with a 'scenes' list"


def read_clevr_count(root: Path, split: str = "test") -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"clevr_count: split {split!r} is not one of train, test")
    root = Path(root)
    part = "train" if split == "train" else "val"
    path = require_file(root / "CLEVR_v1.0" / "scenes" / f"CLEVR_{part}_scenes.json", LAYOUT)
    data = read_json(path, SCENES_SHAPE, top=dict)
    scenes = data.get("scenes")
    if not isinstance(scenes, list):
        got = f"'scenes' as a JSON {type(scenes).__name__}" if "scenes" in data else "no key 'scenes'"
        raise DataError(f"{path}: expected {SCENES_SHAPE}, got {got}")
    relpaths, labels = [], []
    for k, scene in enumerate(scenes):
        try:
            name, n = scene["image_filename"], len(scene["objects"])
        except (KeyError, TypeError):
            raise DataError(f"{path}: scene {k} lacks image_filename or objects") from None
        if not MIN_OBJECTS <= n <= MAX_OBJECTS:
            raise DataError(f"{path}: scene {k} ({name}) has {n} objects; CLEVR counts expects "
                            f"{MIN_OBJECTS}..{MAX_OBJECTS}")
        relpaths.append(f"CLEVR_v1.0/images/{part}/{name}")
        labels.append(n - MIN_OBJECTS)
    if not relpaths:
        raise DataError(f"{path}: no scenes")
    images = FileImages(root, relpaths)
    images.check_exist(str(path))
    return ClassificationData(images, np.asarray(labels, dtype=np.int64), classnames_for("clevr_count_all"),
                              templates_for("clevr_count_all"), source=str(path))
