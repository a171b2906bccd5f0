"""Linear probe: logistic regression on frozen image features, λ chosen on validation (the CLIP paper).

Declaration only (torch-free). `evaluate.py` runs a task (features, splits, search, refit, test metrics),
`solver.py` fits one logistic regression, `search.py` chooses λ. Definitions: docs/protocols.md §D.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from lipeval.kinds.contract import KindOptions, KindSpec, option, tie_policy_option

SINGLE_LABEL_METRICS = ("acc1", "acc5", "mean_per_class_recall", "mean_top1_top5", "roc_auc")
MULTILABEL_METRICS = ("mAP", "mAP_11pt")


def _lambda(value: Any) -> str | float:
    return "search" if value in ("search", None) else float(value)


@dataclass(frozen=True)
class LinearProbeOptions(KindOptions):
    KIND: ClassVar[str] = "linear_probe"

    # pre_proj: the feature before the image tower's projection (the CLIP paper); embed: the normalised
    # joint embedding (what clip-benchmark probes)
    features: str = option("pre_proj", choices=("pre_proj", "embed"))
    tie_policy: str = tie_policy_option()
    # the validation metric of the λ search; auto: acc1, or mAP_11pt for multi-label sets
    select_on: str = option("auto", choices=("auto",) + SINGLE_LABEL_METRICS + MULTILABEL_METRICS)
    # the per-class share of train carved out for validation when a set has no validation split
    val_fraction: float = option(0.2, check=lambda v: 0 < v < 1, expected="a fraction in (0, 1)")
    fewshot_k: int = option(0, check=lambda v: v >= 0, expected="an integer >= 0 (0: all images)")
    seed: int = option(0, check=lambda v: v >= 0, expected="an integer >= 0")
    # "search": the CLIP paper's search over λ; a number: fit at that λ (C = 1/λ)
    lambda_: str | float = option("search", key="lambda", parse=_lambda,
                                  check=lambda v: v == "search" or (v > 0 and math.isfinite(v)),
                                  expected="search or a positive number")
    max_iter: int = option(1000, check=lambda v: v >= 1, expected="an integer >= 1")
    tol: float = option(1e-4, check=lambda v: v > 0, expected="a positive number")


SPEC = KindSpec(
    name="linear_probe",
    evaluate="lipeval.kinds.linear_probe.evaluate:evaluate",
    records="ProbeData",
    metrics=SINGLE_LABEL_METRICS + MULTILABEL_METRICS,
    options=LinearProbeOptions,
    main_metric="acc1",
    main_metric_multilabel="mAP_11pt",
    description="the CLIP-paper linear probe (logistic regression, λ searched on validation)",
)
