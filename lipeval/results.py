"""The result record: one JSON file per (model, task), written atomically.

`SCHEMA` below is the one documented definition of every key (the README repeats it).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from lipeval.atomic import atomic_write_text

SCHEMA_VERSION = 1

SCHEMA: dict[str, str] = {
    "schema_version": "int; version of this record layout",
    "task": "task name, e.g. coco_retrieval or synthetic/retrieval",
    "task_version": "int; bumped whenever the task's definition changes a number",
    "kind": "task kind: retrieval | zeroshot_classification | linear_probe | caption_selection | image_retrieval",
    "status": "ok | failed | skipped (data not on disk: nothing is downloaded)",
    "error": "null, or the message saying why the task failed or was skipped",
    "metrics": "flat dict metric -> float; fractions in [0, 1]; NaN where undefined (acc5 below 5 classes)",
    "main_metric": "the key of `metrics` that tables and the CI gate use",
    "chance": "the expected value of each metric for a random ranking (where it has a closed form)",
    "model": "{spec, fingerprint (hash of weights + config), context_length, truncation, architecture, pretrained}",
    "dataset": "{name, root, fingerprint, n_images, n_texts, synthetic (true for lipeval's synthetic suite)}",
    "protocol": "every option that changes a number (tie_policy, caption_prefix, reader options ...)",
    "info": "kind-specific counts (classes, templates, text token statistics ...)",
    "env": "{lipeval, torch, open_clip, python, device, precision, seed}",
    "timing": "seconds per stage: load_data, embed_images, embed_texts, score, total; a kind may add its own "
              "sub-stages of score (linear_probe: fit)",
    "limit": "null, or N when run with --limit N (such records are refused by export and compare)",
    "config_hash": "hash of the task config; a re-run recomputes when it changes",
}


def _clean(x):
    """JSON cannot hold NaN portably: store it as null, and floats as plain floats."""
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item"):  # numpy / torch scalars
        return _clean(x.item())
    return x


def write_record(path: Path, record: dict) -> None:
    atomic_write_text(path, json.dumps(_clean(record), indent=2, sort_keys=False) + "\n")


def read_record(path: Path) -> dict | None:
    """The record at path, or None when absent or unreadable (then the task simply runs again)."""
    try:
        rec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict):
        return None
    rec["metrics"] = {k: (float("nan") if v is None else v) for k, v in (rec.get("metrics") or {}).items()}
    return rec
