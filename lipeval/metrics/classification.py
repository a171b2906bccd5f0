"""Zero-shot classification metrics (docs/protocols.md §C.2) on an (N, C) logit matrix.

Ties between the true class and another class are broken by the tie policy:

* ``pessimistic`` (default): rank of the true class = 1 + #other classes scoring ``>=`` it (a tie is a miss);
* ``optimistic``: rank = 1 + #classes scoring ``>`` it;
* ``reference``: CLIP_benchmark, call for call: ``accuracy`` takes ``logits.topk(max(topk))`` once and slices
  it for every k, and ``mean_per_class_recall`` is ``balanced_accuracy_score(target, logits.argmax(1))``, so
  under ties acc1 and the recall can disagree about the same sample. Tie order is whatever torch gives.

For multi-label data, average precision is non-interpolated: sort the samples by score, take the precision at
each positive's position, sum, divide by the number of positives (0 for a class without positives). Among tied
scores ``pessimistic`` puts negatives first, ``optimistic`` positives first, ``reference`` keeps the order of
``torch.sort(descending=True)`` as CLIP_benchmark's ``average_precision_per_class``.
"""

from __future__ import annotations

import torch

from lipeval.metrics import _as_tensor, _check_tie_policy, _has_nan

__all__ = [
    "average_precision_per_class",
    "classification_chance",
    "classification_metrics",
    "multilabel_metrics",
    "topk_correct",
]

_CHUNK = 8192


def _prepare(logits, labels) -> tuple[torch.Tensor, torch.Tensor]:
    logits = _as_tensor(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, C), got shape {tuple(logits.shape)}")
    logits = logits.to(torch.float32)
    n, c = logits.shape
    if c == 0:
        raise ValueError("logits must have at least one class")
    if _has_nan(logits, _CHUNK):
        raise ValueError("logits contains NaN")
    labels = _as_tensor(labels, "labels")
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"labels must be 1-D with one class index per sample ({n}), got shape "
                         f"{tuple(labels.shape)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"labels must hold integer class indices, got dtype {labels.dtype}")
    labels = labels.to(device=logits.device, dtype=torch.long)
    if n and (int(labels.min()) < 0 or int(labels.max()) >= c):
        raise ValueError(f"labels must lie in [0, {c}), got [{int(labels.min())}, {int(labels.max())}]")
    return logits, labels


def _rank_of_label(logits: torch.Tensor, labels: torch.Tensor, pessimistic: bool) -> torch.Tensor:
    """1-based rank of the true class: 1 + #other classes scoring >= it (pessimistic) or > it (optimistic)."""
    ranks = torch.empty(logits.shape[0], dtype=torch.long, device=logits.device)
    for start in range(0, logits.shape[0], _CHUNK):
        block = logits[start:start + _CHUNK]
        true = block.gather(1, labels[start:start + _CHUNK, None])
        if pessimistic:
            above = (block >= true).sum(dim=1) - 1  # minus the true class itself
        else:
            above = (block > true).sum(dim=1)
        ranks[start:start + _CHUNK] = above + 1
    return ranks


def _reference_topk(logits: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """(N, k) bool: [the j-th entry of ``logits.topk(k, 1, True, True)`` is the label] (CLIP_benchmark)."""
    k = min(k, logits.shape[1])
    out = torch.empty((logits.shape[0], k), dtype=torch.bool, device=logits.device)
    for start in range(0, logits.shape[0], _CHUNK):
        pred = logits[start:start + _CHUNK].topk(k, 1, True, True)[1]
        out[start:start + _CHUNK] = pred == labels[start:start + _CHUNK, None]
    return out


def topk_correct(logits, labels, k: int, tie_policy: str = "pessimistic") -> torch.Tensor:
    """(N,) bool: whether each sample's true class is among its k best classes.

    ``pessimistic`` (default): correct iff 1 + #other classes with logit >= the true class's logit <= k.
    ``optimistic``: correct iff 1 + #classes with logit > the true one <= k.
    ``reference``: the true class is in ``logits.topk(k)`` (CLIP_benchmark ``accuracy``; tie order as torch
    gives it; k is clamped to the number of classes).
    """
    _check_tie_policy(tie_policy)
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    logits, labels = _prepare(logits, labels)
    if tie_policy == "reference":
        return _reference_topk(logits, labels, k).any(dim=1)
    return _rank_of_label(logits, labels, tie_policy == "pessimistic") <= k


def _mean_per_class(correct: torch.Tensor, labels: torch.Tensor, n_classes: int) -> float:
    """Mean over the classes present in ``labels`` of the fraction of their samples that are correct."""
    total = torch.bincount(labels, minlength=n_classes).to(torch.float64)
    hits = torch.bincount(labels[correct], minlength=n_classes).to(torch.float64)
    present = total > 0
    if not bool(present.any()):
        return float("nan")
    return float((hits[present] / total[present]).mean())


def _fraction(x: torch.Tensor) -> float:
    if x.numel() == 0:
        return float("nan")
    return int(x.sum().item()) / x.numel()


def classification_metrics(logits, labels, tie_policy: str = "pessimistic") -> dict[str, float]:
    """Single-label zero-shot classification: ``acc1``, ``acc5``, ``mean_per_class_recall``.

    ``logits`` (N, C) class scores, ``labels`` (N,) true class indices. ``acc{k}`` = fraction of samples whose
    true class ranks <= k; ``acc5`` is NaN when C < 5 (as CLIP_benchmark). ``mean_per_class_recall`` = mean over
    the classes present in ``labels`` of the fraction of their samples that are top-1 correct; without ties it
    equals ``sklearn.metrics.balanced_accuracy_score(labels, logits.argmax(1))``.

    Ties: ``pessimistic`` (default) a class tied with the true one ranks above it; ``optimistic`` below it;
    ``reference`` reproduces CLIP_benchmark exactly: acc1 and acc5 from one ``topk(5)`` (``topk(1)`` when C < 5)
    and the recall from ``argmax`` (first maximum), so the two may treat a tied sample differently.
    """
    _check_tie_policy(tie_policy)
    logits, labels = _prepare(logits, labels)
    n_classes = logits.shape[1]
    if tie_policy == "reference":
        hits = _reference_topk(logits, labels, 5 if n_classes >= 5 else 1)
        acc1 = _fraction(hits[:, :1].any(dim=1))
        acc5 = _fraction(hits.any(dim=1)) if n_classes >= 5 else float("nan")
        top1 = logits.argmax(dim=1) == labels
    else:
        ranks = _rank_of_label(logits, labels, tie_policy == "pessimistic")
        top1 = ranks <= 1
        acc1 = _fraction(top1)
        acc5 = _fraction(ranks <= 5) if n_classes >= 5 else float("nan")
    return {"acc1": acc1, "acc5": acc5, "mean_per_class_recall": _mean_per_class(top1, labels, n_classes)}


def _prepare_multilabel(scores, targets) -> tuple[torch.Tensor, torch.Tensor]:
    scores = _as_tensor(scores, "scores")
    targets = _as_tensor(targets, "targets")
    if scores.ndim != 2 or targets.shape != scores.shape:
        raise ValueError(f"scores and targets must both be (N, C), got {tuple(scores.shape)} and "
                         f"{tuple(targets.shape)}")
    scores = scores.to(torch.float32)
    if _has_nan(scores, _CHUNK):
        raise ValueError("scores contains NaN")
    targets = targets.to(scores.device)
    if targets.dtype != torch.bool:
        if not bool(((targets == 0) | (targets == 1)).all()):
            raise ValueError("targets must be binary (0/1 or bool)")
        targets = targets != 0
    return scores, targets


def _ap_from_order(truth: torch.Tensor) -> torch.Tensor:
    """AP per column of an (N, C) bool matrix already sorted best-first: sum of precision at positives / #pos."""
    n = truth.shape[0]
    t = truth.to(torch.float64)
    positions = torch.arange(1, n + 1, dtype=torch.float64, device=truth.device)[:, None]
    precision = t.cumsum(dim=0) / positions
    n_pos = t.sum(dim=0)
    return (precision * t).sum(dim=0) / n_pos.clamp(min=1)


def average_precision_per_class(scores, targets, tie_policy: str = "pessimistic") -> torch.Tensor:
    """(C,) float64 non-interpolated average precision of each class (column).

    Samples are sorted by score, best first; AP = sum over the positives of (#positives at or above its
    position / its position), divided by the number of positives; 0 for a class with no positive.
    ``targets`` (N, C) binary. Among tied scores ``pessimistic`` (default) puts the negatives first,
    ``optimistic`` the positives first, ``reference`` keeps ``torch.sort(scores[:, c], 0, True)``'s order
    (CLIP_benchmark ``average_precision_per_class``).
    """
    _check_tie_policy(tie_policy)
    scores, targets = _prepare_multilabel(scores, targets)
    if scores.shape[0] == 0:
        return torch.zeros(scores.shape[1], dtype=torch.float64)
    if tie_policy == "reference":
        truth = torch.empty_like(targets)
        for c in range(scores.shape[1]):
            order = torch.sort(scores[:, c], 0, True)[1]
            truth[:, c] = targets[order, c]
    else:
        # secondary key first (stable), then the primary key (stable): negatives-first or positives-first ties
        tie_key = targets.to(torch.int8) if tie_policy == "pessimistic" else (~targets).to(torch.int8)
        order = torch.argsort(tie_key, dim=0, stable=True)
        by_score = torch.argsort(scores.gather(0, order), dim=0, descending=True, stable=True)
        truth = targets.gather(0, order.gather(0, by_score))
    return _ap_from_order(truth).cpu()


def multilabel_metrics(scores, targets, tie_policy: str = "pessimistic") -> dict[str, float]:
    """``{"mAP": mean over all C classes of average_precision_per_class}`` (a class without positives adds 0,
    as in CLIP_benchmark's ``mean_average_precision``)."""
    ap = average_precision_per_class(scores, targets, tie_policy)
    return {"mAP": float(ap.mean()) if ap.numel() else float("nan")}


def classification_chance(labels, n_classes: int) -> dict[str, float]:
    """Expected metrics under a uniformly random ranking of the classes.

    Single-label (``labels`` 1-D): ``acc1`` = 1/C, ``acc5`` = min(5, C)/C (NaN when C < 5),
    ``mean_per_class_recall`` = 1/C. Multi-label (``labels`` 2-D): expected mAP depends on the label counts in
    a way not reported here; returns ``{}``.
    """
    n_classes = int(n_classes)
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    labels = _as_tensor(labels, "labels")
    if labels.ndim == 2:
        return {}
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (single-label) or 2-D (multi-label), got {labels.ndim}-D")
    return {
        "acc1": 1.0 / n_classes,
        "acc5": min(5, n_classes) / n_classes if n_classes >= 5 else float("nan"),
        "mean_per_class_recall": 1.0 / n_classes,
    }
