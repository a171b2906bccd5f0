"""Image-text retrieval recall (CLIP-paper style R@k) on a text x image score matrix.

Inputs shared by the functions here:

* ``scores``: (N_texts, N_images) similarity (cosine similarity in practice); ranked in fp32.
* ``text_image``: (N_texts,) integer, the index of the image each text describes. An image may have any number
  of texts, zero included.

Definitions (docs/protocols.md §B.4 and §A.2):

* text -> image (``text_to_image_R@k``): a text is a hit when its image is among its k best images; the value
  is the mean over all texts.
* image -> text (``image_to_text_R@k``): an image is a hit when **any** of its texts is among its k best texts;
  the value is the mean over the images that have at least one text. Images with no text have nothing to
  retrieve and are left out of the mean (except under ``tie_policy="reference"``, see below).

Rank of a positive = 1 + the number of **negatives** ranked above it; for image -> text the positive is the
image's best-scoring text, and other texts of the same image never push it down. A tie between the positive and
a negative is broken by the tie policy:

* ``pessimistic`` (default): negatives scoring ``>=`` the positive are counted (a tie is a miss);
* ``optimistic``: only negatives scoring ``>`` the positive are counted;
* ``reference``: CLIP_benchmark's ``recall_at_k``: ``torch.topk(k)`` over each query's row, then a membership
  test, so ties fall wherever ``topk`` puts them (device- and version-dependent). As in CLIP_benchmark an image
  with no text counts as a miss in the image -> text mean (its recall is 0/0 = NaN, and ``NaN > 0`` is false),
  and a text whose image index is valid always has exactly one positive. ``k`` larger than the number of
  candidates is clamped to it (where CLIP_benchmark's ``topk`` would raise).

Everything is computed in chunks of ``chunk_size`` queries, so a 25,010 x 5,000 matrix never needs more than a
(chunk_size x N) boolean temporary beyond the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from lipeval.metrics import _as_tensor, _check_tie_policy, _has_nan

__all__ = ["RetrievalRanks", "retrieval_chance", "retrieval_metrics", "retrieval_ranks"]


@dataclass(frozen=True)
class RetrievalRanks:
    """Per-query 1-based ranks of the positive under one tie policy.

    ``text_to_image``: (N_texts,) long, rank of each text's image among all images.
    ``image_to_text``: (N_images,) long, rank of each image's best-scoring text among all texts, counting only
    negative texts above it; 0 for an image with no text (see ``image_has_text``).
    ``image_has_text``: (N_images,) bool, whether the image has at least one text.
    """

    text_to_image: torch.Tensor
    image_to_text: torch.Tensor
    image_has_text: torch.Tensor

    def recall(self, k: int) -> dict[str, float]:
        """R@k in both directions from the ranks: the fraction of ranks <= k (images without text left out)."""
        t2i = _mean_bool(self.text_to_image <= k)
        i2t = _mean_bool((self.image_to_text <= k)[self.image_has_text])
        return {f"image_to_text_R@{k}": i2t, f"text_to_image_R@{k}": t2i}


def _mean_bool(x: torch.Tensor) -> float:
    n = x.numel()
    if n == 0:
        return float("nan")
    return int(x.sum().item()) / n


def _prepare(scores, text_image) -> tuple[torch.Tensor, torch.Tensor]:
    scores = _as_tensor(scores, "scores")
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (N_texts, N_images), got shape {tuple(scores.shape)}")
    scores = scores.to(torch.float32)
    n_texts, n_images = scores.shape
    if n_texts == 0 or n_images == 0:
        raise ValueError(f"scores must have at least one text and one image, got shape {tuple(scores.shape)}")
    if _has_nan(scores):
        raise ValueError("scores contains NaN")
    text_image = _as_tensor(text_image, "text_image")
    if text_image.ndim != 1 or text_image.shape[0] != n_texts:
        raise ValueError(
            f"text_image must be 1-D with one entry per text ({n_texts}), got shape {tuple(text_image.shape)}"
        )
    if text_image.is_floating_point() or text_image.is_complex() or text_image.dtype == torch.bool:
        raise ValueError(f"text_image must hold integer image indices, got dtype {text_image.dtype}")
    text_image = text_image.to(device=scores.device, dtype=torch.long)
    if int(text_image.min()) < 0 or int(text_image.max()) >= n_images:
        raise ValueError(f"text_image values must lie in [0, {n_images}), got [{int(text_image.min())}, "
                         f"{int(text_image.max())}]")
    return scores, text_image


def _check_ks(ks: Iterable[int]) -> list[int]:
    ks = [int(k) for k in ks]
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty list of integers >= 1, got {ks}")
    return ks


def _check_chunk(chunk_size: int) -> int:
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return chunk_size


def retrieval_ranks(
    scores, text_image, tie_policy: str = "pessimistic", chunk_size: int = 1024
) -> RetrievalRanks:
    """Per-query ranks of the positive in both directions (see the module docstring for the definition).

    rank = 1 + #negatives scoring ``>=`` the positive (``pessimistic``) or ``>`` it (``optimistic``); for
    image -> text the positive is the image's best-scoring text. ``reference`` has no rank (``topk`` order is
    only defined up to k) and is refused here; use :func:`retrieval_metrics`.
    """
    _check_tie_policy(tie_policy)
    if tie_policy == "reference":
        raise ValueError("retrieval_ranks supports tie_policy 'pessimistic' or 'optimistic'; "
                         "'reference' exists only in retrieval_metrics")
    chunk_size = _check_chunk(chunk_size)
    scores, text_image = _prepare(scores, text_image)
    return _ranks(scores, text_image, tie_policy == "pessimistic", chunk_size)


def _ranks(scores: torch.Tensor, text_image: torch.Tensor, pessimistic: bool, chunk_size: int) -> RetrievalRanks:
    n_texts, n_images = scores.shape
    device = scores.device
    # score of each text with its own image
    pos = scores[torch.arange(n_texts, device=device), text_image]

    # text -> image: one positive per text
    t2i = torch.empty(n_texts, dtype=torch.long, device=device)
    for start in range(0, n_texts, chunk_size):
        block = scores[start:start + chunk_size]
        p = pos[start:start + chunk_size, None]
        if pessimistic:
            above = (block >= p).sum(dim=1) - 1  # the positive itself is always >= itself
        else:
            above = (block > p).sum(dim=1)
        t2i[start:start + chunk_size] = above + 1

    # image -> text: best positive per image, then count texts above it that are not positives
    n_pos = torch.bincount(text_image, minlength=n_images)
    has_text = n_pos > 0
    best = torch.full((n_images,), -math.inf, dtype=scores.dtype, device=device)
    best.scatter_reduce_(0, text_image, pos, reduce="amax", include_self=True)
    if pessimistic:
        # positives tied with the best one (they are >= it too) must not count as texts above it
        pos_at_best = torch.bincount(text_image[pos >= best[text_image]], minlength=n_images)
    i2t = torch.empty(n_images, dtype=torch.long, device=device)
    for start in range(0, n_images, chunk_size):
        stop = min(start + chunk_size, n_images)
        block = scores[:, start:stop]  # (N_texts, chunk): column j holds image start+j's scores over all texts
        b = best[None, start:stop]
        if pessimistic:
            above = (block >= b).sum(dim=0) - pos_at_best[start:stop]
        else:
            above = (block > b).sum(dim=0)  # no positive scores above the best positive
        i2t[start:stop] = above + 1
    i2t[~has_text] = 0
    return RetrievalRanks(text_to_image=t2i, image_to_text=i2t, image_has_text=has_text)


def _reference_hits(scores: torch.Tensor, text_image: torch.Tensor, k: int, chunk_size: int):
    """CLIP_benchmark ``recall_at_k``: topk(k) per query row, then membership; returns (t2i hits, i2t hits)."""
    n_texts, n_images = scores.shape
    device = scores.device
    k_t2i = min(k, n_images)
    t2i = torch.empty(n_texts, dtype=torch.bool, device=device)
    for start in range(0, n_texts, chunk_size):
        idx = torch.topk(scores[start:start + chunk_size], k_t2i, dim=1)[1]
        t2i[start:start + chunk_size] = (idx == text_image[start:start + chunk_size, None]).any(dim=1)
    k_i2t = min(k, n_texts)
    scores_t = scores.T  # the same (non-contiguous) view CLIP_benchmark slices
    i2t = torch.empty(n_images, dtype=torch.bool, device=device)
    for start in range(0, n_images, chunk_size):
        stop = min(start + chunk_size, n_images)
        idx = torch.topk(scores_t[start:stop], k_i2t, dim=1)[1]
        own = torch.arange(start, stop, device=device)[:, None]
        i2t[start:stop] = (text_image[idx] == own).any(dim=1)
    return t2i, i2t


def retrieval_metrics(
    scores,
    text_image,
    ks: Sequence[int] = (1, 5, 10),
    tie_policy: str = "pessimistic",
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Image -> text and text -> image recall@k, plus ``mean_R@1``.

    ``scores`` (N_texts, N_images), ``text_image`` (N_texts,) image index of each text. Returns, for each k in
    ``ks``, ``image_to_text_R@{k}`` (mean over images with >= 1 text of [any of its texts ranks <= k]) and
    ``text_to_image_R@{k}`` (mean over texts of [its image ranks <= k]), fractions in [0, 1], and
    ``mean_R@1`` = the mean of the two R@1 values (always reported, even when 1 is not in ``ks``).

    Ties (see the module docstring): ``pessimistic`` (default) rank = 1 + #negatives scoring >= the positive
    (best positive for image -> text); ``optimistic`` counts only negatives scoring > it; ``reference`` is
    CLIP_benchmark's topk-membership test, including its counting of text-less images as image -> text misses.
    """
    _check_tie_policy(tie_policy)
    ks = _check_ks(ks)
    chunk_size = _check_chunk(chunk_size)
    scores, text_image = _prepare(scores, text_image)
    all_ks = list(dict.fromkeys(ks + [1]))
    out: dict[str, float] = {}
    if tie_policy == "reference":
        for k in all_ks:
            t2i, i2t = _reference_hits(scores, text_image, k, chunk_size)
            # CLIP_benchmark averages image -> text over every image, text-less ones included (as misses)
            out[f"image_to_text_R@{k}"] = _mean_bool(i2t)
            out[f"text_to_image_R@{k}"] = _mean_bool(t2i)
    else:
        ranks = _ranks(scores, text_image, tie_policy == "pessimistic", chunk_size)
        for k in all_ks:
            out.update(ranks.recall(k))
    result = {}
    for k in ks:
        result[f"image_to_text_R@{k}"] = out[f"image_to_text_R@{k}"]
        result[f"text_to_image_R@{k}"] = out[f"text_to_image_R@{k}"]
    result["mean_R@1"] = (out["image_to_text_R@1"] + out["text_to_image_R@1"]) / 2
    return result


def _prob_any_in_top_k(n: int, m: int, k: int) -> float:
    """P(at least one of m marked items is among the first k of a uniformly random order of n items)."""
    if m <= 0:
        return 0.0
    k = min(k, n)
    if k > n - m:
        return 1.0  # fewer than k unmarked items: a marked one is always in the top k
    # P(none in top k) = C(n - m, k) / C(n, k) = prod_{j<k} (1 - m / (n - j)); summed as logs for precision
    log_p_none = sum(math.log1p(-m / (n - j)) for j in range(k))
    return -math.expm1(log_p_none)


def retrieval_chance(n_images: int, text_image, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Exact expected value of :func:`retrieval_metrics` under a uniformly random ranking of each query.

    text -> image R@k = min(k, N_images) / N_images. image -> text R@k for an image with m of the N_texts texts
    = 1 - C(N_texts - m, k) / C(N_texts, k), averaged over images with m >= 1 (the images the metric counts).
    Same keys as :func:`retrieval_metrics`, ``mean_R@1`` included. (Ties do not arise in a random ranking.)
    """
    ks = _check_ks(ks)
    n_images = int(n_images)
    text_image = _as_tensor(text_image, "text_image").to(torch.long).reshape(-1)
    n_texts = int(text_image.numel())
    if n_images < 1 or n_texts < 1:
        raise ValueError("retrieval_chance needs at least one image and one text")
    if int(text_image.min()) < 0 or int(text_image.max()) >= n_images:
        raise ValueError(f"text_image values must lie in [0, {n_images})")
    counts = torch.bincount(text_image, minlength=n_images).tolist()
    present = [m for m in counts if m > 0]
    out: dict[str, float] = {}
    for k in list(dict.fromkeys(ks + [1])):
        # images sharing a caption count share a probability: group them
        per_m = {m: _prob_any_in_top_k(n_texts, m, k) for m in set(present)}
        out[f"image_to_text_R@{k}"] = sum(per_m[m] for m in present) / len(present)
        out[f"text_to_image_R@{k}"] = min(k, n_images) / n_images
    result = {}
    for k in ks:
        result[f"image_to_text_R@{k}"] = out[f"image_to_text_R@{k}"]
        result[f"text_to_image_R@{k}"] = out[f"text_to_image_R@{k}"]
    result["mean_R@1"] = (out["image_to_text_R@1"] + out["text_to_image_R@1"]) / 2
    return result
