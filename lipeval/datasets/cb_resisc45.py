"""RESISC45, read by lipeval from the extracted NWPU-RESISC45 folder: clip-benchmark has no plain branch
for it (only `vtab/resisc45`, which needs TFDS and downloads from OneDrive).

Class names are the ones the VTAB branch would use (TFDS's, underscores kept); templates come from
clip-benchmark's JSON, with the builder's precedence for custom files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import fit_templates, names_and_templates
from lipeval.datasets.image_files import is_image_file
from lipeval.datasets.records import ClassificationData, FileImages
from lipeval.errors import DataError, DataMissing

# The 45 RESISC45 classes in TFDS label order (alphabetical folder names of NWPU-RESISC45).
RESISC45_CLASSES = [
    "airplane", "airport", "baseball_diamond", "basketball_court", "beach", "bridge", "chaparral", "church",
    "circular_farmland", "cloud", "commercial_area", "dense_residential", "desert", "forest", "freeway",
    "golf_course", "ground_track_field", "harbor", "industrial_area", "intersection", "island", "lake",
    "meadow", "medium_residential", "mobile_home_park", "mountain", "overpass", "palace", "parking_lot",
    "railway", "railway_station", "rectangular_farmland", "river", "roundabout", "runway", "sea_ice", "ship",
    "snowberg", "sparse_residential", "stadium", "storage_tank", "tennis_court", "terrace",
    "thermal_power_station", "wetland",
]


def read_resisc45(root: Path, split: str, spec: dict, language: str,
                  custom_classname_file: str | None, custom_template_file: str | None) -> ClassificationData:
    """RESISC45 from `root/NWPU-RESISC45/<class>/`: the images a `resisc45-<split>.txt` lists, else (test only)
    every image of every class folder, in sorted order; labels are TFDS's, by class name."""
    base = root / "NWPU-RESISC45"
    index = {c: i for i, c in enumerate(RESISC45_CLASSES)}
    folders = sorted(p.name for p in base.iterdir() if p.is_dir())
    unknown = [f for f in folders if f not in index]
    if unknown:
        raise DataError(f"resisc45: unexpected class folders {unknown[:5]} in {base} ({spec['layout']})")
    if not folders:
        raise DataMissing(f"resisc45: no class folders in {base} ({spec['layout']})")
    split_file = root / f"resisc45-{split}.txt"
    relpaths: list[str] = []
    labels: list[int] = []
    if split_file.is_file():
        with open(split_file, encoding="utf-8") as f:
            wanted = [line.strip() for line in f if line.strip()]
        longest_first = sorted(index, key=len, reverse=True)  # railway_station_ before railway_
        for name in wanted:
            fname = Path(name).name
            cls = next((c for c in longest_first if fname.startswith(c + "_")), None)
            if cls is None:
                raise DataError(f"{split_file}: cannot tell the class of {name!r} (expected <class>_NNN.jpg)")
            relpaths.append(f"NWPU-RESISC45/{cls}/{fname}")
            labels.append(index[cls])
        note = f"split from {split_file.name} ({len(relpaths)} images)"
    elif split != "test":
        raise DataMissing(
            f"resisc45: split {split!r} needs the split list {split_file} (one file name per line); "
            f"without it only 'test' (the whole set) can be read"
        )
    else:
        for cls in folders:
            for p in sorted((base / cls).iterdir()):
                if p.is_file() and is_image_file(p):
                    relpaths.append(f"NWPU-RESISC45/{cls}/{p.name}")
                    labels.append(index[cls])
        note = f"no {split_file.name}: the whole set is read ({len(relpaths)} images)"
        if len(folders) != len(RESISC45_CLASSES):
            note += f"; only {len(folders)} of {len(RESISC45_CLASSES)} class folders present"
    images = FileImages(root, relpaths)
    images.check_exist(str(split_file) if split_file.is_file() else str(base))
    classnames, templates = names_and_templates(
        ["vtab/resisc45", "resisc45"], RESISC45_CLASSES, language, custom_classname_file, custom_template_file
    )
    return ClassificationData(
        images=images,
        labels=np.asarray(labels, dtype=np.int64),
        classnames=classnames,
        templates=fit_templates("resisc45", classnames, templates, custom_template_file),
        source=f"clip_benchmark:resisc45 at {root}",
        extra={"dataset": "resisc45", "split": split, "reader": "lipeval", "split_note": note,
               "label_source": "class folder"},
    )
