"""KITTI closest-vehicle distance (the VTAB task the CLIP paper probes), from KITTI's object-detection data:

    <root>/training/image_2/NNNNNN.png     (data_object_image_2.zip extracted)
    <root>/training/label_2/NNNNNN.txt     (data_object_label_2.zip extracted)
    <root>/mapping/train_rand.txt, <root>/mapping/train_mapping.txt   (devkit_object.zip extracted;
                                           the zip itself at <root>/devkit_object.zip also works)

Splits (as VTAB's TFDS builder makes them): image i of the 7,481 training images belongs to the drive
named on line train_rand[i] of train_mapping.txt; with numpy's legacy generator seeded 123, 10 % of the
sorted drives are drawn for test, then 10 % of the remaining ones for val, the rest are train (6,347 /
423 / 711 images).

Label: the smallest depth z (camera coordinates, metres) among the Car, Van and Truck objects of the
image's label file (10,000 when there is none), binned by the thresholds -100, 8, 20, 999: the label is the
number of thresholds below the depth, minus one, so 0 up to 8 m, 1 up to 20 m, 2 beyond, 3 no vehicle.
Class names and the template are clip-benchmark's `kitti_closest_vehicle_distance`.
"""
from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import classnames_for, templates_for
from lipeval.datasets.records import ClassificationData, FileImages, require_dir
from lipeval.errors import ConfigError, DataError, DataMissing

LAYOUT = ("<root>/training/{image_2/NNNNNN.png, label_2/NNNNNN.txt} and <root>/mapping/{train_rand.txt, "
          "train_mapping.txt} (KITTI object data + devkit_object.zip)")
VEHICLES = ("Car", "Van", "Truck")
THRESHOLDS = (-100.0, 8.0, 20.0, 999.0)
NO_VEHICLE_DEPTH = 10000.0
SPLIT_SEED = 123
PERCENT_VAL = PERCENT_TEST = 10


def _mapping_texts(root: Path) -> tuple[str, str, str]:
    folder = root / "mapping"
    if (folder / "train_rand.txt").is_file() and (folder / "train_mapping.txt").is_file():
        return (folder / "train_rand.txt").read_text(encoding="utf-8"), \
            (folder / "train_mapping.txt").read_text(encoding="utf-8"), str(folder)
    zpath = root / "devkit_object.zip"
    if zpath.is_file():
        try:
            with zipfile.ZipFile(zpath) as z:
                return (z.read("mapping/train_rand.txt").decode("utf-8"),
                        z.read("mapping/train_mapping.txt").decode("utf-8"), str(zpath))
        except (KeyError, zipfile.BadZipFile) as e:
            raise DataError(f"{zpath}: cannot read mapping/train_rand.txt and mapping/train_mapping.txt ({e})") \
                from None
    raise DataMissing(f"expected files {folder / 'train_rand.txt'} and {folder / 'train_mapping.txt'} ({LAYOUT})")


def split_image_ids(train_rand: str, train_mapping: str, where: str = "mapping") -> dict[str, list[int]]:
    """Image ids (0-based) of the train / val / test splits, each sorted."""
    try:
        order = [int(x) - 1 for x in train_rand.replace("\n", ",").split(",") if x.strip()]
    except ValueError:
        raise DataError(f"{where}/train_rand.txt: expected comma-separated line numbers") from None
    lines = [ln for ln in train_mapping.splitlines() if ln.strip()]
    drive_images: dict[str, list[int]] = defaultdict(list)
    for image_id, line_no in enumerate(order):
        if not 0 <= line_no < len(lines) or len(lines[line_no].split()) < 2:
            raise DataError(f"{where}: train_rand.txt entry {image_id + 1} points at line {line_no + 1} of "
                            f"train_mapping.txt, which has {len(lines)} lines of `<date> <drive> <frame>`")
        drive_images[lines[line_no].split()[1]].append(image_id)
    drives = sorted(drive_images)
    rng = np.random.RandomState(SPLIT_SEED)
    n_test = max(1, PERCENT_TEST * len(drives) // 100)
    n_val = max(1, PERCENT_VAL * len(drives) // 100)
    test = set(rng.choice(drives, n_test, replace=False).tolist())
    val = set(rng.choice(sorted(set(drives) - test), n_val, replace=False).tolist())
    out = {"train": [], "val": [], "test": []}
    for drive, ids in drive_images.items():
        out["test" if drive in test else "val" if drive in val else "train"].extend(ids)
    return {k: sorted(v) for k, v in out.items()}


def distance_label(label_text: str, where: str) -> int:
    """The closest-vehicle class of one KITTI label file (see the module docstring)."""
    depths = [NO_VEHICLE_DEPTH]
    for n, line in enumerate(label_text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 15:
            raise DataError(f"{where}: line {n} has {len(fields)} fields, a KITTI label line has 15 "
                            f"(type truncated occluded alpha bbox[4] dimensions[3] location[3] rotation_y)")
        if fields[0] in VEHICLES:
            try:
                depths.append(float(fields[13]))
            except ValueError:
                raise DataError(f"{where}: line {n}: location z {fields[13]!r} is not a number") from None
    dist = min(depths)
    return max((k for k, t in enumerate(THRESHOLDS) if t < dist), default=0)


def read_kitti_distance(root: Path, split: str = "test") -> ClassificationData:
    if split not in ("train", "val", "test"):
        raise ConfigError(f"kitti: split {split!r} is not one of train, val, test")
    root = Path(root)
    require_dir(root / "training" / "image_2", LAYOUT)
    labels_dir = require_dir(root / "training" / "label_2", LAYOUT)
    rand, mapping, where = _mapping_texts(root)
    ids = split_image_ids(rand, mapping, where)[split]
    labels = []
    for i in ids:
        path = labels_dir / f"{i:06d}.txt"
        if not path.is_file():
            raise DataError(f"kitti: label file {path} is missing ({LAYOUT})")
        labels.append(distance_label(path.read_text(encoding="utf-8"), str(path)))
    images = FileImages(root, [f"training/image_2/{i:06d}.png" for i in ids])
    images.check_exist(f"the {split} split of {where}")
    return ClassificationData(images, np.asarray(labels, dtype=np.int64),
                              classnames_for("kitti_closest_vehicle_distance"),
                              templates_for("kitti_closest_vehicle_distance"),
                              source=f"kitti closest-vehicle distance, {split} split at {root}")
