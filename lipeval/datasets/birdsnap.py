"""Birdsnap (500 North American bird species) from its official distribution, birdsnap.tgz v1.1:

    <root>/species.txt        tab-separated, header `id common scientific dir`; ids 1..500
    <root>/images.txt         tab-separated, header `url md5 path species_id bb_x1 ...`; `path` = <dir>/<file>.jpg
    <root>/test_images.txt    header `path`, then the paths of the 2,443 test images
    <root>/download/images/<path>   the images as the distribution's get_birdsnap.py saves them
                                    (<root>/images/<path> is accepted too)

Train = every image of images.txt not in test_images.txt; test = test_images.txt. The Flickr URLs behind
Birdsnap are largely dead, so every copy lacks images: listed images that are not on disk are left out and
counted (`extra["n_missing"]`, also in the task's record); a split with none on disk is missing data.
Labels are species id - 1; class names are the common names.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import templates_for
from lipeval.datasets.folder import read_lines
from lipeval.datasets.records import ClassificationData, FileImages, require_file
from lipeval.datasets.text_lists import read_tsv
from lipeval.errors import ConfigError, DataError, DataMissing

LAYOUT = ("<root>/{species.txt, images.txt, test_images.txt} (birdsnap.tgz v1.1) and the images under "
          "<root>/download/images/<species dir>/<file>.jpg as get_birdsnap.py saves them")


def read_birdsnap(root: Path, split: str = "test") -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"birdsnap: split {split!r} is not one of train, test")
    root = Path(root)
    species = read_tsv(require_file(root / "species.txt", LAYOUT), ("id", "common"))
    images = read_tsv(require_file(root / "images.txt", LAYOUT), ("path", "species_id"))
    test_lines = read_lines(require_file(root / "test_images.txt", LAYOUT))
    image_dir = next((d for d in (root / "download" / "images", root / "images") if d.is_dir()), None)
    if image_dir is None:
        raise DataMissing(f"expected folder {root / 'download' / 'images'} ({LAYOUT})")

    ids = {}
    for n, row in species:
        try:
            ids[int(row["id"])] = row["common"]
        except ValueError:
            raise DataError(f"{root / 'species.txt'}: line {n}: species id {row['id']!r} is not an integer") from None
    if sorted(ids) != list(range(1, len(ids) + 1)):
        raise DataError(f"{root / 'species.txt'}: species ids must run 1..{len(ids)} without gaps")
    classnames = [ids[i] for i in range(1, len(ids) + 1)]
    if test_lines and test_lines[0][1] == "path":
        test_lines = test_lines[1:]
    test_paths = {p for _, p in test_lines}

    label_of = {}
    for n, row in images:
        try:
            sid = int(row["species_id"])
        except ValueError:
            raise DataError(f"{root / 'images.txt'}: line {n}: species_id {row['species_id']!r} is not an integer") \
                from None
        if sid not in ids:
            raise DataError(f"{root / 'images.txt'}: line {n}: species_id {sid} is not in species.txt")
        label_of[row["path"]] = sid - 1
    unknown = sorted(test_paths - set(label_of))
    if unknown:
        raise DataError(f"{root / 'test_images.txt'}: {len(unknown)} path(s) not in images.txt, e.g. {unknown[0]!r}")

    wanted = sorted(test_paths) if split == "test" else sorted(set(label_of) - test_paths)
    present = [p for p in wanted if (image_dir / p).is_file()]
    if not present:
        raise DataMissing(f"birdsnap: none of the {len(wanted)} {split} images listed is under {image_dir} ({LAYOUT})")
    rel = image_dir.relative_to(root).as_posix()
    return ClassificationData(
        FileImages(root, [f"{rel}/{p}" for p in present]),
        np.asarray([label_of[p] for p in present], dtype=np.int64),
        classnames, templates_for("birdsnap"), source=f"birdsnap {split} at {root}",
        extra={"n_listed": len(wanted), "n_missing": len(wanted) - len(present),
               "note": "Birdsnap's Flickr URLs are largely dead: images not on disk are left out"},
    )
