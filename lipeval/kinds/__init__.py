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
        "protocol": {"tie_policy": "pessimistic", "caption_prefix": "",
                     # long-text handling (lipeval.kinds.retrieval): the preprocessing rule of
                     # lipeval.text_preprocessing, and reference | subcaption_mean (non-reference)
                     "text_preprocessing": "none", "long_text_mode": "reference"},
    },
    "zeroshot_classification": {
        "module": "lipeval.kinds.zeroshot",
        "records": "ClassificationData",
        "metrics": ["acc1", "acc5", "mean_per_class_recall", "mAP"],
        "protocol": {"tie_policy": "pessimistic"},
    },
    "linear_probe": {
        "module": "lipeval.kinds.linear_probe",
        "records": "ProbeData",
        "metrics": ["acc1", "acc5", "mean_per_class_recall", "mean_top1_top5", "roc_auc", "mAP", "mAP_11pt"],
        # features: pre_proj (CLIP paper) | embed (normalised, as clip-benchmark); lambda: search | a number;
        # select_on: the validation metric of the search (auto: acc1, or mAP_11pt for multi-label sets);
        # fewshot_k: 0 = every training image
        "protocol": {"features": "pre_proj", "tie_policy": "pessimistic", "select_on": "auto",
                     "val_fraction": 0.2, "fewshot_k": 0, "seed": 0, "lambda": "search", "max_iter": 1000,
                     "tol": 1e-4},
    },
    "caption_selection": {
        "module": "lipeval.kinds.caption_selection",
        "records": "ChoiceData",
        "metrics": ["accuracy", "macro_accuracy"],
        # identical_options: skip (an option equal to the true caption is no negative) | score
        "protocol": {"tie_policy": "pessimistic", "identical_options": "skip"},
    },
    "image_retrieval": {
        "module": "lipeval.kinds.image_retrieval",
        "records": "ImageRetrievalData",
        "metrics": ["mAP", "mAP_landmarks", "mAP_inat", "mAP_sketch", "mAP_instre", "mAP_sop", "mAP_faces"],
        # leave_one_out: false = GPR1200's protocol (the query is one of its own 10 positives)
        "protocol": {"tie_policy": "pessimistic", "leave_one_out": False},
    },
}

# Ad-hoc tasks (wds/NAME, folder/NAME) learn their kind from the records their reader returns.
KIND_FOR_RECORDS = {spec["records"]: name for name, spec in KINDS.items()}


def run_kind(kind: str, data, embedder, protocol: dict):
    """Import the kind's module and run it: returns (metrics, info)."""
    return importlib.import_module(KINDS[kind]["module"]).run(data, embedder, protocol)
