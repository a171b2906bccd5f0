"""Image-to-image retrieval (GPR1200): every image queries all images; mAP and per-domain mAP.

Protocol options: `tie_policy` (pessimistic | optimistic | reference, see `lipeval.metrics.gpr`) and
`leave_one_out` (false = the reference protocol, the query stays in the database as one of its positives;
true = the query is removed, 9 positives per GPR1200 category).
"""
from __future__ import annotations

import numpy as np

from lipeval.datasets.image_retrieval_records import ImageRetrievalData
from lipeval.errors import ConfigError
from lipeval.metrics.gpr import average_precisions, gpr_chance, gpr_metrics


def as_bool(value, name: str) -> bool:
    """A protocol flag from YAML (bool) or the command line (true/false/1/0/yes/no)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"protocol option {name} must be true or false, got {value!r}")


def run(data: ImageRetrievalData, embedder, protocol: dict) -> tuple[dict, dict]:
    leave_one_out = as_bool(protocol.get("leave_one_out", False), "leave_one_out")
    emb = embedder.images(data.images)
    aps = average_precisions(emb, data.categories, tie_policy=protocol["tie_policy"], leave_one_out=leave_one_out)
    metrics = gpr_metrics(aps.numpy(), data.categories)
    _, counts = np.unique(np.asarray(data.categories), return_counts=True)
    info = {
        "n_images": len(data.images), "n_texts": 0, "n_categories": int(len(counts)),
        "images_per_category": [int(counts.min()), int(counts.max())],
        "n_queries_without_positive": int(np.isnan(aps.numpy()).sum()),
        "chance": gpr_chance(data.categories, leave_one_out),
    }
    return metrics, info
