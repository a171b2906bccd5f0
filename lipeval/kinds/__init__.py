"""Task kinds: each turns dataset records + embeddings into metrics, never knowing the model.

This module is pure data (no torch import), so listing and validating tasks stays fast.
`protocol` holds every option that changes a number, with its default (the correct
definition); a task config or `--protocol key=value` may override them, and the result
record stores the values used.
"""
from __future__ import annotations

import importlib

RETRIEVAL_KS = (1, 5, 10)

KINDS: dict[str, dict] = {
    "retrieval": {
        "module": "lipeval.kinds.retrieval",
        "records": "RetrievalData",
        "metrics": [f"{d}_R@{k}" for d in ("image_to_text", "text_to_image") for k in RETRIEVAL_KS] + ["mean_R@1"],
        "protocol": {"tie_policy": "pessimistic", "caption_prefix": ""},
    },
    "zeroshot_classification": {
        "module": "lipeval.kinds.zeroshot",
        "records": "ClassificationData",
        "metrics": ["acc1", "acc5", "mean_per_class_recall", "mAP"],
        "protocol": {"tie_policy": "pessimistic"},
    },
}

# Ad-hoc tasks (wds/NAME, folder/NAME) learn their kind from the records their reader returns.
KIND_FOR_RECORDS = {spec["records"]: name for name, spec in KINDS.items()}


def run_kind(kind: str, data, embedder, protocol: dict):
    """Import the kind's module and run it: returns (metrics, info)."""
    return importlib.import_module(KINDS[kind]["module"]).run(data, embedder, protocol)
