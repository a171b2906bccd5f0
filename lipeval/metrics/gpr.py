"""Image-to-image retrieval mAP in the GPR1200 protocol (docs/protocols.md §F).

Every image queries every image. A database image is relevant to a query when it has the same category.
Average precision runs over all ranks: AP = (1 / n_pos) * sum over the positives of
(#positives at or above it) / (its 1-based rank), and mAP is the mean over the queries.

* Default (the reference protocol): the query stays in the database and counts as one of its own positives
  (10 per GPR1200 category). With normalised features it sits at rank 1.
* ``leave_one_out=True``: the query is removed from its own database (9 positives per category).
  A query whose category has no other image then has no positive; its AP is NaN and it is left out of
  every mean.

Ties between a positive and a negative are broken by the tie policy: ``pessimistic`` (default) ranks the
negatives first, ``optimistic`` the positives first, ``reference`` keeps the order of
``torch.argsort(similarity_row, descending=True)`` as the reference's ``get_sorted_distances`` (not stable, so
the order of tied items is whatever torch gives).

The similarity is computed ``chunk_size`` queries at a time (``features[chunk] @ features.T``), so memory
stays at a few (chunk_size x N) arrays instead of the N x N matrix: about 0.3 GB for N = 12,000 at the
default chunk size.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from lipeval.metrics import _as_tensor, _check_tie_policy

__all__ = ["DOMAINS", "average_precisions", "expected_ap_random", "gpr_chance", "gpr_metrics"]

# GPR1200 domains by category id: metric suffix and [first, last + 1) category id.
DOMAINS: tuple[tuple[str, int, int], ...] = (
    ("landmarks", 0, 200),   # Google Landmarks v2
    ("inat", 200, 400),      # iNaturalist
    ("sketch", 400, 600),    # ImageNet-Sketch
    ("instre", 600, 800),    # INSTRE
    ("sop", 800, 1000),      # Stanford Online Products
    ("faces", 1000, 1200),   # IMDB-WIKI
)


def _prepare(features, categories) -> tuple[torch.Tensor, torch.Tensor]:
    features = _as_tensor(features, "features")
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"features must be 2-D (N images, D) with N >= 1, got shape {tuple(features.shape)}")
    features = features.to(torch.float32)
    if torch.isnan(features).any():
        raise ValueError("features contains NaN")
    categories = _as_tensor(categories, "categories")
    if categories.ndim != 1 or categories.shape[0] != features.shape[0]:
        raise ValueError(f"categories must be 1-D with one entry per image ({features.shape[0]}), "
                         f"got shape {tuple(categories.shape)}")
    if categories.is_floating_point() or categories.dtype == torch.bool:
        raise ValueError(f"categories must hold integer category ids, got dtype {categories.dtype}")
    return features, categories.to(torch.long)


def _members(categories: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(C, M) image indices of each category padded with -1, and each image's row in it."""
    uniq, inverse = torch.unique(categories, return_inverse=True)
    counts = torch.bincount(inverse, minlength=len(uniq))
    table = torch.full((len(uniq), int(counts.max())), -1, dtype=torch.long)
    order = torch.argsort(inverse, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(categories)) - starts[inverse[order]]
    table[inverse[order], slot] = order
    return table, inverse


def _ap_from_counts(pos_scores: torch.Tensor, valid: torch.Tensor, sim: torch.Tensor,
                    pessimistic: bool) -> torch.Tensor:
    """AP of each query from its positives' scores (c, M; ``valid`` marks real positives) and its row of all
    database scores (c, N), without sorting the row: each item is placed among the M positive scores by a
    binary search, and the counts per interval give, for every positive, the number of items scoring at least
    as high (pessimistic) or higher (optimistic). Positive k (best first) sits at rank k + #negatives above it.
    """
    c, n_db = sim.shape
    m = pos_scores.shape[1]
    thresholds, order = torch.sort(torch.where(valid, pos_scores, torch.full_like(pos_scores, math.inf)), dim=1)
    valid = valid.gather(1, order)  # real positives first, ascending by score
    # slot(x) = #thresholds <= x (pessimistic) or < x (optimistic); x counts for threshold k iff slot(x) > k
    slot = torch.searchsorted(thresholds, sim, right=pessimistic)
    hist = torch.zeros((c, m + 1), dtype=torch.long).scatter_add_(1, slot, torch.ones_like(slot))
    items_above = n_db - hist.cumsum(dim=1)[:, :m]
    t = thresholds
    cmp = (t[:, None, :] >= t[:, :, None]) if pessimistic else (t[:, None, :] > t[:, :, None])
    pos_above = (cmp & valid[:, None, :]).sum(dim=2)  # positives among those items (itself included if >=)
    negatives_above = (items_above - pos_above).to(torch.float64)
    n_pos = valid.sum(dim=1)
    k = (n_pos[:, None] - torch.arange(m)[None, :]).to(torch.float64)  # 1-based position among positives
    terms = torch.where(valid, k / (k + negatives_above), torch.zeros((), dtype=torch.float64))
    n_pos = n_pos.to(torch.float64)
    return torch.where(n_pos > 0, terms.sum(dim=1) / n_pos.clamp(min=1), torch.full_like(n_pos, math.nan))


def _ap_reference(sim: torch.Tensor, categories: torch.Tensor, query_cat: torch.Tensor,
                  keep: torch.Tensor | None) -> torch.Tensor:
    """AP from ``torch.argsort(sim, descending=True)`` order, as the reference ranks (``keep`` drops items)."""
    order = torch.argsort(sim, dim=1, descending=True)
    hits = categories[order] == query_cat[:, None]
    if keep is not None:
        kept = keep.gather(1, order)
        hits = hits[kept].view(sim.shape[0], -1)
    cum = hits.cumsum(dim=1, dtype=torch.int32)
    ranks = torch.arange(1, hits.shape[1] + 1, dtype=torch.float64)
    n_pos = hits.sum(dim=1).to(torch.float64)
    total = torch.where(hits, cum.to(torch.float64) / ranks, torch.zeros((), dtype=torch.float64)).sum(dim=1)
    return torch.where(n_pos > 0, total / n_pos.clamp(min=1), torch.full_like(n_pos, math.nan))


def average_precisions(features, categories, tie_policy: str = "pessimistic", leave_one_out: bool = False,
                       chunk_size: int = 1024) -> torch.Tensor:
    """(N,) float64 AP of every image used as a query against all images (see the module docstring).

    ``features`` (N, D) should be L2-normalised (the similarity is their dot product); ``categories`` (N,)
    integer category of each image.
    """
    _check_tie_policy(tie_policy)
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunk_size = int(chunk_size)
    features, categories = _prepare(features, categories)
    n = features.shape[0]
    table, inverse = _members(categories)
    out = torch.empty(n, dtype=torch.float64)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        rows = torch.arange(start, stop)
        sim = features[start:stop] @ features.T
        if tie_policy == "reference":
            keep = None
            if leave_one_out:
                keep = torch.ones_like(sim, dtype=torch.bool)
                keep[torch.arange(stop - start), rows] = False
            out[start:stop] = _ap_reference(sim, categories, categories[start:stop], keep)
            continue
        pos_idx = table[inverse[start:stop]]
        valid = pos_idx >= 0
        if leave_one_out:
            valid &= pos_idx != rows[:, None]
            sim[torch.arange(stop - start), rows] = -math.inf  # the query is not in its own database
        pos_scores = sim.gather(1, pos_idx.clamp(min=0))
        out[start:stop] = _ap_from_counts(pos_scores, valid, sim, tie_policy == "pessimistic")
    return out


def _domain_of(categories: np.ndarray) -> np.ndarray:
    names = np.full(categories.shape, "", dtype=object)
    for name, lo, hi in DOMAINS:
        names[(categories >= lo) & (categories < hi)] = name
    return names


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float("nan")


def gpr_metrics(aps, categories: Sequence[int]) -> dict[str, float]:
    """``mAP`` over all queries and ``mAP_<domain>`` over the queries of each GPR1200 domain.

    Domains are found from category ids (0-199 landmarks, ..., 1000-1199 faces), so a subset of the data
    scores each domain correctly; a domain with no query is NaN. NaN APs (no positive) are left out.
    """
    aps = np.asarray(aps, dtype=np.float64)
    cats = np.asarray(categories, dtype=np.int64)
    if aps.shape != cats.shape:
        raise ValueError(f"aps and categories must have one entry per query, got {aps.shape} and {cats.shape}")
    domain = _domain_of(cats)
    out = {"mAP": _nanmean(aps)}
    for name, _, _ in DOMAINS:
        out[f"mAP_{name}"] = _nanmean(aps[domain == name])
    return out


def expected_ap_random(n_db: int, n_pos: int, query_first: bool) -> float:
    """Expected AP when the database (n_db items, n_pos relevant) is ranked in a uniformly random order.

    ``query_first``: the query itself is in the database, relevant, and always ranked first (what any
    normalised embedding does); the other n_db - 1 items are in random order. Closed forms with H = the
    harmonic number H_{n_db}: plain E = (H + (R - 1) / (N - 1) * (N - H)) / N; query first
    E = (1 + (R - 1) / (N - 1) * (2 (H - 1) + (R - 2) / (N - 2) * (N - 1 - 2 (H - 1)))) / R.
    """
    n, r = int(n_db), int(n_pos)
    if r < 1:
        return float("nan")
    if r > n:
        raise ValueError(f"n_pos ({r}) cannot exceed n_db ({n})")
    if n == 1 or r == n:
        return 1.0
    h = math.fsum(1.0 / k for k in range(1, n + 1))
    if not query_first:
        return (h + (r - 1) / (n - 1) * (n - h)) / n
    if r == 1:
        return 1.0
    spread = (r - 2) / (n - 2) * (n - 1 - 2 * (h - 1)) if r > 2 else 0.0
    return (1 + (r - 1) / (n - 1) * (2 * (h - 1) + spread)) / r


def gpr_chance(categories: Sequence[int], leave_one_out: bool = False) -> dict[str, float]:
    """The expected value of :func:`gpr_metrics` for random features (same keys)."""
    cats = np.asarray(categories, dtype=np.int64)
    n = len(cats)
    _, inverse, counts = np.unique(cats, return_inverse=True, return_counts=True)
    cache: dict[int, float] = {}
    per_query = np.empty(n, dtype=np.float64)
    for i, c in enumerate(counts[inverse]):
        c = int(c)
        if c not in cache:
            cache[c] = (expected_ap_random(n - 1, c - 1, query_first=False) if leave_one_out
                        else expected_ap_random(n, c, query_first=True))
        per_query[i] = cache[c]
    return gpr_metrics(per_query, cats)
