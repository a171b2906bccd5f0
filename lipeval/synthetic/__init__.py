"""The embedded synthetic suite: a deterministic shapes world written in official formats.

`generate(out)` writes `out/synthetic/`:

    lipeval_synthetic.json              marker and metadata (seed, scale, counts, vocabulary)
    scenes/{train,test}.jsonl           one scene per line: objects, relations, captions, image path
    coco/coco_{train,test}_karpathy.json  COCO-captions files, 5 short captions per image
    coco/{train2014,val2014}/COCO_{train,val}2014_%012d.jpg   the images (JPEG quality 95)
    folder/{shape,colour,background}/{train,test}/<class>/<id>.png  ImageFolder class sets,
                                        with classnames.txt and templates.txt

Ids start at 1 in each split (COCO image ids are positive); scene `id` is the COCO image id.
The test split is the COCO "test" (val2014) set; class-folder `test` splits hold every test
scene and class-folder `train` splits the first K train scenes.

Scales (train images / test images / K class-folder train images):

    tiny       64 /    48 /    64   for tests: 459 files, 1.6 MB, 0.3 s
    small   2,000 /   500 / 1,000   7,011 files, 23 MB, 3 s
    default 12,000 / 1,000 / 2,000   22,011 files, 76 MB, 12 s (2-core CPU); the world of
                                     shared/notes/synthetic-world.md

The same seed, scale and image size give byte-identical files; train and test are sampled
from different seeds derived from `seed`.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from lipeval.errors import ConfigError
from lipeval.synthetic import writers
from lipeval.synthetic.captions import scene_captions
from lipeval.synthetic.compositional import write_compositional
from lipeval.synthetic.long_formats import write_long_formats
from lipeval.synthetic.probe_sets import write_probe_sets
from lipeval.synthetic.render import render
from lipeval.synthetic.world import (BACKGROUNDS, CELLS, COLOURS, RELATIONS, SHAPES, SIZES, Scene,
                                     sample_scenes)

__all__ = ["generate", "SCALES", "SUITE_DIR", "MARKER", "FORMAT_VERSION", "CLASS_SETS"]

SCALES: dict[str, dict[str, int]] = {
    "tiny": {"train": 64, "test": 48, "folder_train": 64},
    "small": {"train": 2000, "test": 500, "folder_train": 1000},
    "default": {"train": 12000, "test": 1000, "folder_train": 2000},
}

SUITE_DIR = "synthetic"
MARKER = "lipeval_synthetic.json"
FORMAT_VERSION = 1

# Class set name -> (label of a scene, class folder names, readable class names, templates).
CLASS_SETS: dict[str, tuple] = {
    "shape": (lambda s: s.main.shape, list(SHAPES), list(SHAPES),
              ["a {c}.", "a photo of a {c}.", "a drawing of a {c}.", "a {c} shape.", "a picture of a {c}."]),
    "colour": (lambda s: s.main.colour, list(COLOURS), list(COLOURS),
               ["a {c} object.", "a {c} shape.", "a photo of a {c} object.", "something {c}."]),
    "background": (lambda s: s.background, list(BACKGROUNDS), list(BACKGROUNDS),
                   ["a shape on a {c} background.", "a {c} background.",
                    "a photo of an object on a {c} background.", "a picture with a {c} background."]),
}

# Further official formats written from the same scenes. Each is called as
# `write(suite_dir, scenes_by_split, image_size, seed)` after the COCO and class-folder
# sets exist (so it may reuse their image files) and writes its own sub-folder.
FORMAT_WRITERS: list = []
FORMAT_WRITERS.append(write_long_formats)  # long/{dci,iiw,sharegpt4v,urban1k}/
FORMAT_WRITERS.append(write_compositional)  # aro/, sugarcrepe/, gpr1200/, coco/{val2017/,aro_order_perturbations.json}
FORMAT_WRITERS.append(write_probe_sets)  # folder/count/, wds/shapes_present/ (linear probe)

# split name -> (seed stream, COCO split word, COCO image folder, COCO annotation file)
_SPLITS = {
    "train": (1, "train", "coco/train2014", "coco/coco_train_karpathy.json"),
    "test": (2, "val", "coco/val2014", "coco/coco_test_karpathy.json"),
}


def _vocabulary() -> dict:
    return {"shapes": list(SHAPES), "colours": {k: list(v) for k, v in COLOURS.items()},
            "sizes": list(SIZES), "cells": list(CELLS), "backgrounds": list(BACKGROUNDS),
            "relations": list(RELATIONS)}


def _write_split(root: Path, split: str, scenes: list[Scene], image_size: int, n_folder: int) -> None:
    _, coco_split, image_dir, ann_file = _SPLITS[split]
    records, images, captions = [], [], []
    for k, scene in enumerate(scenes):
        image, _ = render(scene, image_size)
        name = writers.coco_image_name(coco_split, scene.id)
        writers.write_bytes(root / image_dir / name, writers.encode_jpeg(image))
        if k < n_folder:
            png = writers.encode_png(image)
            for set_name, (label, _, _, _) in CLASS_SETS.items():
                writers.write_bytes(root / "folder" / set_name / split / label(scene) / f"{scene.id:06d}.png", png)
        short, long = scene_captions(scene)
        images.append({"id": scene.id, "file_name": name, "height": image_size, "width": image_size})
        captions.append(short)
        records.append({
            "id": scene.id,
            "image": f"{image_dir}/{name}",
            "background": scene.background,
            "objects": [o.attributes() for o in scene.objects],
            "relations": [list(r) for r in scene.relations],
            "short_captions": short,
            "long_caption": long,
        })
    writers.write_jsonl(root / "scenes" / f"{split}.jsonl", records)
    writers.write_json(root / ann_file,
                       writers.coco_captions(images, captions, f"lipeval synthetic suite, {split} split"))


def generate(out: Path | str, seed: int = 0, scale: str = "default", image_size: int = 64) -> Path:
    """Write the synthetic suite to `out/synthetic` and return that folder.

    An existing suite there (a folder holding the marker file) is replaced; any other
    non-empty folder of that name is left alone and raises ConfigError.
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown synthetic scale {scale!r}; expected one of {sorted(SCALES)}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"synthetic seed must be a non-negative integer, got {seed!r}")
    if not isinstance(image_size, int) or image_size < 16:
        raise ConfigError(f"synthetic image_size must be an integer >= 16, got {image_size!r}")
    out = Path(out)
    final = out / SUITE_DIR
    if final.exists() and not (final / MARKER).is_file() and any(final.iterdir()):
        raise ConfigError(f"{final} exists and is not a lipeval synthetic suite; refusing to overwrite it")
    tmp = out / f".{SUITE_DIR}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)

    counts = SCALES[scale]
    for set_name, (_, classes, classnames, templates) in CLASS_SETS.items():
        writers.write_class_set(tmp / "folder" / set_name, classes, classnames, templates)
    scenes: dict[str, list[Scene]] = {}
    for split in ("train", "test"):
        stream = _SPLITS[split][0]
        scenes[split] = sample_scenes(np.random.default_rng([seed, stream]), counts[split])
        n_folder = counts["folder_train"] if split == "train" else counts["test"]
        _write_split(tmp, split, scenes[split], image_size, n_folder)
    for write in FORMAT_WRITERS:
        write(tmp, scenes, image_size, seed)
    writers.write_json(tmp / MARKER, {
        "generator": "lipeval.synthetic",
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "scale": scale,
        "image_size": image_size,
        "counts": {**counts, "captions_per_image": 5},
        "vocabulary": _vocabulary(),
    }, indent=1)

    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return final
