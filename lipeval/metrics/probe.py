"""The linear-probe metrics of the CLIP paper that zero-shot does not use (docs/protocols.md §D.1.5; the CLIP paper's Table 9).

* ``voc11_average_precision``: PASCAL VOC 2007's 11-point interpolated AP per class,
  AP = (1/11) Σ_{r ∈ {0, 0.1, ..., 1}} max{precision(r') : recall(r') >= r} (0 when no such point),
  with precision and recall taken after each sample of the score-sorted list. Ties between scores are
  ordered by the tie policy: ``pessimistic`` negatives first, ``optimistic`` positives first, ``reference``
  the input order (a stable sort, as the VOC devkit's MATLAB ``sort``). A class without positives gets 0.
* ``roc_auc``: the area under the ROC curve of a binary problem = the probability that a random positive
  scores above a random negative, a tied pair counting one half (the Mann-Whitney statistic; the same number
  as the trapezoidal area under the ROC curve drawn through tied scores).
* ``mean_top1_top5``: (acc1 + acc5) / 2 (the CLIP paper's Kinetics-700 metric).
"""
from __future__ import annotations

import math

import torch

from lipeval.metrics import _as_tensor, _check_tie_policy
from lipeval.metrics.classification import _prepare_multilabel

__all__ = ["mean_top1_top5", "roc_auc", "voc11_average_precision", "voc11_map"]

RECALL_POINTS = tuple(k / 10 for k in range(11))


def _sorted_truth(scores: torch.Tensor, targets: torch.Tensor, tie_policy: str) -> torch.Tensor:
    """(N, C) bool: each column's targets in descending score order, ties ordered by the policy."""
    if tie_policy == "reference":
        order = torch.argsort(scores, dim=0, descending=True, stable=True)
        return targets.gather(0, order)
    # a stable sort by the tie key first, then a stable sort by score, puts the tie key's order inside ties
    tie_key = targets.to(torch.int8) if tie_policy == "pessimistic" else (~targets).to(torch.int8)
    first = torch.argsort(tie_key, dim=0, stable=True)
    by_score = torch.argsort(scores.gather(0, first), dim=0, descending=True, stable=True)
    return targets.gather(0, first.gather(0, by_score))


def voc11_average_precision(scores, targets, tie_policy: str = "pessimistic") -> torch.Tensor:
    """(C,) float64 11-point interpolated average precision of each column of ``scores`` (N, C) against the
    0/1 ``targets`` (N, C)."""
    _check_tie_policy(tie_policy)
    scores, targets = _prepare_multilabel(scores, targets)
    n, c = scores.shape
    if n == 0:
        return torch.zeros(c, dtype=torch.float64)
    truth = _sorted_truth(scores, targets, tie_policy).to(torch.float64)
    tp = truth.cumsum(dim=0)
    precision = tp / torch.arange(1, n + 1, dtype=torch.float64, device=tp.device)[:, None]
    n_pos = truth.sum(dim=0)
    recall = tp / n_pos.clamp(min=1)
    ap = torch.zeros(c, dtype=torch.float64, device=tp.device)
    for r in RECALL_POINTS:
        reached = recall >= r  # k/10 and tp/n_pos are both correctly rounded, and rounding is monotone
        best = torch.where(reached, precision, torch.zeros_like(precision)).max(dim=0).values
        ap += best
    ap /= len(RECALL_POINTS)
    ap[n_pos == 0] = 0.0
    return ap.cpu()


def voc11_map(scores, targets, tie_policy: str = "pessimistic") -> float:
    """Mean over all classes of ``voc11_average_precision``."""
    ap = voc11_average_precision(scores, targets, tie_policy)
    return float(ap.mean()) if ap.numel() else float("nan")


def roc_auc(scores, labels) -> float:
    """ROC AUC of ``scores`` (N,) for binary ``labels`` (N,) in {0, 1}; NaN unless both classes occur."""
    scores = _as_tensor(scores, "scores").to(torch.float64).flatten()
    labels = _as_tensor(labels, "labels").flatten()
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels must have the same length, got {scores.numel()} and {labels.numel()}")
    if torch.isnan(scores).any():
        raise ValueError("scores contains NaN")
    if labels.numel() and not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError("labels must be binary (0/1)")
    pos = labels.to(torch.bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # midranks (ties share the mean of the ranks they span); AUC = (Σ positive ranks - n_pos(n_pos+1)/2) / (P N)
    values, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).to(torch.float64)
    midrank = ends - (counts.to(torch.float64) - 1) / 2
    rank_sum = float(midrank[inverse][pos].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def mean_top1_top5(acc1: float, acc5: float) -> float:
    """(acc1 + acc5) / 2; NaN when either is NaN (fewer than five classes)."""
    if math.isnan(acc1) or math.isnan(acc5):
        return float("nan")
    return (acc1 + acc5) / 2
