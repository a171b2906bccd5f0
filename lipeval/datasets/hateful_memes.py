"""Hateful Memes (Facebook AI), images only, as the CLIP paper's linear probe uses it:

    <root>/train.jsonl                one JSON object per line: {"id", "img": "img/<id>.png", "label": 0|1, "text"}
    <root>/dev_seen.jsonl             the labelled 500-meme dev set (phase 2; phase 1's dev.jsonl also works)
    <root>/img/<id>.png

Split "train" reads train.jsonl, "test" dev_seen.jsonl (the test sets carry no labels). Classes: 0 "not
hateful", 1 "hateful"; the probe's main metric is ROC AUC with the hateful logit as the score.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import templates_for
from lipeval.datasets.files import first_present, read_jsonl
from lipeval.datasets.records import ClassificationData, FileImages
from lipeval.errors import ConfigError, DataError, DataMissing

LAYOUT = "<root>/{train.jsonl, dev_seen.jsonl (or dev.jsonl), img/<id>.png}"
CLASSNAMES = ["not hateful", "hateful"]
RECORD_SHAPE = "a JSON object with 'img' and an integer 'label'"


def read_hateful_memes(root: Path, split: str = "test") -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"hateful_memes: split {split!r} is not one of train, test")
    root = Path(root)
    names = ["train.jsonl"] if split == "train" else ["dev_seen.jsonl", "dev.jsonl"]
    name = first_present(root, names)
    if name is None:
        raise DataMissing(f"expected file {' or '.join(str(root / n) for n in names)} ({LAYOUT})")
    path = root / name
    relpaths, labels = [], []
    for n, rec in read_jsonl(path, RECORD_SHAPE, top=dict):
        try:
            img, label = rec["img"], int(rec["label"])
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: line {n}: expected {RECORD_SHAPE} ({type(e).__name__}: {e})") from None
        if label not in (0, 1):
            raise DataError(f"{path}: line {n}: label {label} is not 0 or 1")
        relpaths.append(str(img).lstrip("/"))
        labels.append(label)
    if not relpaths:
        raise DataError(f"{path}: no memes")
    images = FileImages(root, relpaths)
    images.check_exist(str(path))
    return ClassificationData(images, np.asarray(labels, dtype=np.int64), CLASSNAMES, templates_for("hateful_memes"),
                              source=str(path))
