"""The CLIP paper's search for the linear probe's regularisation strength λ (docs/protocols.md §D).

The search: λ runs over ``LAMBDAS`` (97 values, 1e-6 ... 1e6, 8 per decade). The seven values 1e-6, 1e-4,
..., 1e6 are tried first, from the largest down, then the interval around the best is halved (steps of 8, 4,
2, 1 grid points) until the resolution is one grid step: at most 15 fits. The best is the highest validation
score; ties go to the larger λ. Every fit is warm-started from the solution at the nearest λ already fitted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from lipeval.kinds.linear_probe.solver import LogisticFit, Prepared, fit_logistic

STEPS_PER_DECADE = 8
LOG10_MIN, LOG10_MAX = -6, 6
LAMBDAS: tuple[float, ...] = tuple(
    10.0 ** (LOG10_MIN + k / STEPS_PER_DECADE) for k in range((LOG10_MAX - LOG10_MIN) * STEPS_PER_DECADE + 1)
)
COARSE_STEP = 2 * STEPS_PER_DECADE  # 1e-6, 1e-4, ..., 1e6


@dataclass
class SearchResult:
    best: int  # index into LAMBDAS
    scores: dict[int, float] = field(default_factory=dict)  # every index tried -> validation score
    order: list[int] = field(default_factory=list)  # indices in the order they were fitted

    @property
    def lam(self) -> float:
        return LAMBDAS[self.best]


def pick_best(scores: dict[int, float]) -> int:
    """Highest score; among equal scores the larger λ (higher index). NaN never wins."""
    return max(scores, key=lambda i: (not math.isnan(scores[i]), 0.0 if math.isnan(scores[i]) else scores[i], i))


def search_indices(evaluate: Callable[[int], float], n: int = len(LAMBDAS), coarse_step: int = COARSE_STEP,
                   ) -> SearchResult:
    """The parametric binary search over grid indices 0..n-1 (``evaluate(i)`` -> validation score, higher is
    better): every ``coarse_step``-th index from the top down, then steps of coarse_step/2, /4, ..., 1 on
    both sides of the best so far."""
    res = SearchResult(best=-1)

    def visit(i: int) -> None:
        if 0 <= i < n and i not in res.scores:
            res.scores[i] = float(evaluate(i))
            res.order.append(i)

    for i in range(n - 1, -1, -coarse_step):
        visit(i)
    best = pick_best(res.scores)
    step = coarse_step // 2
    while step >= 1:
        visit(best - step)
        visit(best + step)
        best = pick_best(res.scores)
        step //= 2
    res.best = best
    return res


def search_lambda(x_train: torch.Tensor, y_train, x_val: torch.Tensor, y_val, n_classes: int,
                  score: Callable[[torch.Tensor, object], float], prepared: Prepared | None = None,
                  **fit_kw) -> tuple[SearchResult, dict[int, LogisticFit]]:
    """Fit on train at each λ the search visits, warm-started from the nearest λ fitted so far, and score
    ``score(val_scores, y_val)``. Returns the search and every fit by grid index."""
    fits: dict[int, LogisticFit] = {}
    prepared = prepared if prepared is not None else Prepared.of(x_train)

    def evaluate(i: int) -> float:
        init = None
        if fits:
            near = fits[min(fits, key=lambda j: (abs(j - i), -j))]
            init = (near.weight, near.bias)
        fits[i] = fit_logistic(x_train, y_train, n_classes, LAMBDAS[i], init=init, prepared=prepared, **fit_kw)
        return score(fits[i].scores(x_val), y_val)

    return search_indices(evaluate), fits
