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
    "probe": "lipeval.datasets.probe:read_probe",
    "birdsnap": "lipeval.datasets.birdsnap:read_birdsnap",
    "sun397_partitions": "lipeval.datasets.sun397:read_sun397",
    "kitti_distance": "lipeval.datasets.kitti:read_kitti_distance",
    "ucf101_frames": "lipeval.datasets.video_frames:read_ucf101",
    "kinetics700_frames": "lipeval.datasets.video_frames:read_kinetics700",
    "clevr_count": "lipeval.datasets.clevr:read_clevr_count",
    "hateful_memes": "lipeval.datasets.hateful_memes:read_hateful_memes",
    "dci": "lipeval.datasets.dci:read_dci",
    "iiw": "lipeval.datasets.iiw:read_iiw",
    "sharegpt4v": "lipeval.datasets.sharegpt4v:read_sharegpt4v",
    "urban1k": "lipeval.datasets.urban1k:read_urban1k",
    "aro_vg_relation": "lipeval.datasets.aro:read_vg_relation",
    "aro_vg_attribution": "lipeval.datasets.aro:read_vg_attribution",
    "aro_coco_order": "lipeval.datasets.aro_order:read_coco_order",
    "aro_flickr30k_order": "lipeval.datasets.aro_order:read_flickr30k_order",
    "sugarcrepe": "lipeval.datasets.sugarcrepe:read_sugarcrepe",
    "gpr1200": "lipeval.datasets.gpr1200:read_gpr1200",
}


def get_reader(name: str) -> Callable:
    """Import and return the reader function registered under `name`."""
    module, func = READERS[name].split(":")
    return getattr(importlib.import_module(module), func)
