"""Dataset readers: one official on-disk format each, returning the records of `records.py`.

Readers are named here and imported only when a task runs, so listing tasks stays fast
and torch-free. Every reader has the signature `read(root: Path, **args)`, where `root`
is the task's folder under the data root and `args` come from the task config.
"""
from __future__ import annotations

import importlib
from typing import Callable

READERS: dict[str, str] = {
    "coco_karpathy": "lipeval.datasets.coco:read_coco_karpathy",
    "flickr30k_karpathy": "lipeval.datasets.flickr:read_flickr30k_karpathy",
    "image_folder": "lipeval.datasets.folder:read_image_folder",
    "wds": "lipeval.datasets.wds:read_wds",
    "clip_benchmark": "lipeval.datasets.clip_benchmark_sets:read_clip_benchmark",
}


def get_reader(name: str) -> Callable:
    """Import and return the reader function registered under `name`."""
    module, func = READERS[name].split(":")
    return getattr(importlib.import_module(module), func)
