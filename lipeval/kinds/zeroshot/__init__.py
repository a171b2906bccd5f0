"""Prompt-ensembled zero-shot classification, single- and multi-label.

Declaration only (torch-free); the scoring is in `evaluate.py`. Definitions: docs/protocols.md §C.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lipeval.kinds.contract import KindOptions, KindSpec, tie_policy_option


@dataclass(frozen=True)
class ZeroshotOptions(KindOptions):
    KIND: ClassVar[str] = "zeroshot_classification"

    tie_policy: str = tie_policy_option()


SPEC = KindSpec(
    name="zeroshot_classification",
    evaluate="lipeval.kinds.zeroshot.evaluate:evaluate",
    records="ClassificationData",
    metrics=("acc1", "acc5", "mean_per_class_recall", "mAP"),
    options=ZeroshotOptions,
    main_metric="acc1",
    main_metric_multilabel="mAP",
    description="zero-shot classification with prompt ensembles",
)
