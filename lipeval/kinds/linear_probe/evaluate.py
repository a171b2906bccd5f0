"""Linear probe (docs/protocols.md §D): logistic regression on frozen image features, λ chosen on validation.

Steps: features of every split from the embedding cache (`features`: "pre_proj", the paper's choice, or
"embed", the normalised embedding clip-benchmark probes); the validation split is the set's own, else a
seeded, per-class `val_fraction` of train; optionally `fewshot_k` training images per class (seeded); the
λ search of `search.py` on validation (`select_on`, by default acc1, or 11-point mAP for multi-label sets);
a refit at the chosen λ on train + val (on the few-shot images alone in few-shot mode, as clip-benchmark);
test metrics.

Metrics: single-label sets: acc1, acc5 and mean_top1_top5 (NaN below 5 classes), mean_per_class_recall, and
roc_auc for two classes (score = the logit of the second class). Multi-label sets: mAP (non-interpolated,
as zero-shot) and mAP_11pt (VOC 2007's 11-point interpolated AP).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from lipeval.datasets.probe import ProbeData, RowsImages
from lipeval.errors import ConfigError, DataError
from lipeval.kinds.contract import Embedder, KindResult
from lipeval.kinds.linear_probe import MULTILABEL_METRICS, SINGLE_LABEL_METRICS, LinearProbeOptions
from lipeval.kinds.linear_probe.search import LAMBDAS, search_lambda
from lipeval.kinds.linear_probe.solver import DTYPE, Prepared, fit_logistic
from lipeval.metrics.classification import classification_chance, classification_metrics, multilabel_metrics
from lipeval.metrics.probe import mean_top1_top5, roc_auc, voc11_map

NOTE_KEYS = ("n_listed", "n_missing", "note", "split_note", "split")  # reader notes copied into `info`


def probe_metrics(scores: torch.Tensor, labels, multilabel: bool, tie_policy: str) -> dict[str, float]:
    """Every linear-probe metric defined for these labels, from (N, C) class scores."""
    scores = scores.float().cpu()
    labels = torch.as_tensor(labels)
    if multilabel:
        return {**multilabel_metrics(scores, labels, tie_policy), "mAP_11pt": voc11_map(scores, labels, tie_policy)}
    out = classification_metrics(scores, labels, tie_policy)
    out["mean_top1_top5"] = mean_top1_top5(out["acc1"], out["acc5"])
    if scores.shape[1] == 2:
        out["roc_auc"] = roc_auc(scores[:, 1] - scores[:, 0], labels)
    return out


def resolved_select_on(options: LinearProbeOptions, multilabel: bool) -> str:
    """The validation metric of the λ search for this label type (`auto`: acc1, or mAP_11pt multi-label)."""
    allowed = MULTILABEL_METRICS if multilabel else SINGLE_LABEL_METRICS
    if options.select_on == "auto":
        return "mAP_11pt" if multilabel else "acc1"
    if options.select_on not in allowed:
        raise ConfigError(f"--protocol select_on={options.select_on!r}: for {'multi' if multilabel else 'single'}"
                          f"-label data expected auto or one of {', '.join(allowed)}")
    return options.select_on


# ---------------------------------------------------------------------------------------------------------
# splits
# ---------------------------------------------------------------------------------------------------------

def carve_validation(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, val rows), sorted: per class (single-label) or overall (multi-label), a seeded
    floor(fraction * count) of the rows go to validation."""
    rng = np.random.default_rng([seed, 1])
    if labels.ndim == 2:
        groups = [np.arange(len(labels))]
    else:
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    val = [rng.permutation(g)[:int(fraction * len(g))] for g in groups]
    val_rows = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    keep = np.ones(len(labels), bool)
    keep[val_rows] = False
    return np.flatnonzero(keep), val_rows


def fewshot_rows(labels: np.ndarray, classnames: list[str], k: int, seed: int) -> np.ndarray:
    """k seeded rows per class, sorted; a class with fewer than k rows is a DataError naming it."""
    rng = np.random.default_rng([seed, 2])
    out = []
    for c, name in enumerate(classnames):
        rows = np.flatnonzero(labels == c)
        if len(rows) < k:
            raise DataError(f"few-shot: class {c} ({name!r}) has {len(rows)} training images, fewer than "
                            f"fewshot_k={k}")
        out.append(rng.permutation(rows)[:k])
    return np.sort(np.concatenate(out))


class _Features:
    """Features of image sets through the embedder, each distinct set once; a carved split is sliced out of
    its parent set's features (the cache entry zero-shot uses)."""

    def __init__(self, embedder, features: str):
        self.embedder, self.features, self.memo = embedder, features, {}

    def __call__(self, images) -> torch.Tensor:
        if isinstance(images, RowsImages) and not images.limited:
            return self(images.parent)[torch.as_tensor(images.rows)]
        key = images.fingerprint()
        if key not in self.memo:
            self.memo[key] = self.embedder.images(images, features=self.features).float()
        return self.memo[key]


# ---------------------------------------------------------------------------------------------------------
# the kind
# ---------------------------------------------------------------------------------------------------------

def evaluate(data: ProbeData, embedder: Embedder, options: LinearProbeOptions) -> KindResult:
    o = options
    select_on = resolved_select_on(o, data.multilabel)
    if data.multilabel and o.fewshot_k:
        raise ConfigError("--protocol fewshot_k: few-shot sampling is defined for single-label sets only")
    n_classes = len(data.classnames)
    feats = _Features(embedder, o.features)
    device = embedder.device
    x_train, y_train = feats(data.train.images), data.train.labels
    x_test, y_test = feats(data.test.images), data.test.labels
    if data.val is not None:
        x_val, y_val = feats(data.val.images), data.val.labels
        val_source = "the set's own validation split"
    else:
        tr, va = carve_validation(y_train, o.val_fraction, o.seed)
        x_val, y_val = x_train[torch.as_tensor(va)], y_train[va]
        x_train, y_train = x_train[torch.as_tensor(tr)], y_train[tr]
        val_source = f"carved from train: {o.val_fraction:g} per class, seed {o.seed}"
    if o.fewshot_k:
        rows = fewshot_rows(y_train, data.classnames, o.fewshot_k, o.seed)
        x_train, y_train = x_train[torch.as_tensor(rows)], y_train[rows]
    if len(y_train) == 0 or len(y_test) == 0:
        raise DataError(f"{data.source}: the linear probe needs training and test images "
                        f"({len(y_train)} train, {len(y_test)} test)")
    search_needed = o.lambda_ == "search"
    if search_needed and len(y_val) == 0:
        raise DataError(f"{data.source}: no validation images for the λ search ({val_source}; "
                        f"{len(data.train.labels)} training images); give a val split or a fixed --protocol lambda=")

    x_train, x_val, x_test = (t.to(device=device, dtype=DTYPE) for t in (x_train, x_val, x_test))

    def select(scores: torch.Tensor, y) -> float:
        return probe_metrics(scores, y, data.multilabel, o.tie_policy)[select_on]

    kw = {"max_iter": o.max_iter, "tol": o.tol}
    t0 = time.perf_counter()
    search_info = None
    init = None
    prepared = Prepared.of(x_train)
    if search_needed:
        result, fits = search_lambda(x_train, y_train, x_val, y_val, n_classes, select, prepared, **kw)
        lam = result.lam
        search_info = [[LAMBDAS[i], result.scores[i]] for i in result.order]
        init = fits[result.best]
    else:
        lam = float(o.lambda_)
    if o.fewshot_k:
        x_fit, y_fit = x_train, y_train
    else:  # train + val, rotated in the training features' basis (only the validation rows are new)
        x_fit, y_fit = torch.cat([x_train, x_val]), np.concatenate([y_train, y_val])
        prepared = prepared.extend(x_val)
    final = fit_logistic(x_fit, y_fit, n_classes, lam, **kw, prepared=prepared,
                         init=(init.weight, init.bias) if init is not None else None)
    fit_seconds = time.perf_counter() - t0
    metrics = probe_metrics(final.scores(x_test), y_test, data.multilabel, o.tie_policy)

    chance = {} if data.multilabel else classification_chance(y_test, n_classes)
    if chance:
        chance["mean_top1_top5"] = mean_top1_top5(chance["acc1"], chance["acc5"])
        if n_classes == 2:
            chance["roc_auc"] = 0.5
    n_images = int(len(data.train.labels) + (len(data.val.labels) if data.val is not None else 0) + len(y_test))
    info = {
        "n_train": int(len(y_train)), "n_val": int(len(y_val)), "n_test": int(len(y_test)),
        "n_fit": int(len(y_fit)), "n_classes": n_classes, "multilabel": data.multilabel,
        "features": o.features, "feature_dim": int(x_train.shape[1]),
        "validation": val_source, "select_on": select_on,
        "lambda": lam, "C": 1.0 / lam,
        "search": search_info,
        "final_fit": {"loss": final.loss, "n_iter": final.n_iter, "converged": final.converged,
                      "grad_bound": final.grad_bound},
        "fit_device": str(device),
        "data_notes": {name: {k: d.extra[k] for k in NOTE_KEYS if k in d.extra}
                       for name, d in data.splits().items() if any(k in d.extra for k in NOTE_KEYS)},
    }
    return KindResult(metrics=metrics, chance=chance, n_images=n_images, n_texts=0, info=info,
                      timing={"fit": fit_seconds})
