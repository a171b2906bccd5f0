"""Long-text retrieval (one caption per image) against LoTLIP's definition and a brute-force loop, ties included.

LoTLIP `run_long_retrieval` (docs/protocols.md §B.4): S = T @ I.T (N x N); per direction, the prediction is
the arg-max of each row and R@1 is the fraction of rows whose arg-max is the diagonal. It leaves ties to
`torch.max`; lipeval's pessimistic policy counts a tie as a miss, the optimistic one as a hit.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lipeval.metrics.retrieval import retrieval_metrics

KS = (1, 5, 10)


def lotlip_r1(scores: torch.Tensor) -> dict[str, float]:
    """LoTLIP's metric core, written from its definition (a float32 mean, hence the 1e-6 tolerance)."""
    target = torch.arange(scores.shape[0])
    t2i = (scores.max(dim=1)[1] == target).float().mean().item()
    i2t = (scores.T.max(dim=1)[1] == target).float().mean().item()
    return {"text_to_image_R@1": t2i, "image_to_text_R@1": i2t}


def brute_force(scores: torch.Tensor, k: int, pessimistic: bool) -> dict[str, float]:
    """Rank = 1 + the number of other candidates scoring >= (pessimistic) or > (optimistic) the positive."""
    n = scores.shape[0]
    s = scores.tolist()

    def hit(row: list[float], pos: int) -> bool:
        above = sum(1 for j, v in enumerate(row) if j != pos and (v >= row[pos] if pessimistic else v > row[pos]))
        return above + 1 <= k

    t2i = sum(hit(s[i], i) for i in range(n)) / n
    i2t = sum(hit([s[i][j] for i in range(n)], j) for j in range(n)) / n
    return {f"text_to_image_R@{k}": t2i, f"image_to_text_R@{k}": i2t}


def embeddings(seed: int, n: int = 60, dim: int = 12, levels: int | None = None):
    """Paired image/text embeddings; `levels` quantises them so that many scores tie exactly."""
    g = torch.Generator().manual_seed(seed)
    img = F.normalize(torch.randn(n, dim, generator=g), dim=-1)
    txt = F.normalize(img + 0.9 * torch.randn(n, dim, generator=g), dim=-1)
    if levels is not None:
        img, txt = torch.round(img * levels) / levels, torch.round(txt * levels) / levels
    return img, txt


@pytest.mark.parametrize("seed", range(4))
def test_equals_lotlip_definition_without_ties(seed):
    img, txt = embeddings(seed)
    scores = txt @ img.T
    # no tie within any row or column: every policy must agree with LoTLIP
    assert all(len(torch.unique(r)) == len(r) for r in (*scores, *scores.T))
    ref = lotlip_r1(scores)
    diag = torch.arange(len(img))
    for policy in ("pessimistic", "optimistic", "reference"):
        m = retrieval_metrics(scores, diag, ks=KS, tie_policy=policy)
        assert m["text_to_image_R@1"] == pytest.approx(ref["text_to_image_R@1"], abs=1e-6)
        assert m["image_to_text_R@1"] == pytest.approx(ref["image_to_text_R@1"], abs=1e-6)
        assert m["mean_R@1"] == pytest.approx((ref["text_to_image_R@1"] + ref["image_to_text_R@1"]) / 2, abs=1e-6)
        for k in KS:
            for key, v in brute_force(scores, k, pessimistic=True).items():
                assert m[key] == pytest.approx(v, abs=1e-12), (policy, key)


@pytest.mark.parametrize("seed", range(4))
def test_ties_follow_the_policy_and_bracket_lotlip(seed):
    img, txt = embeddings(seed, levels=2)  # coarse quantisation: many exact ties
    scores = txt @ img.T
    assert len(torch.unique(scores)) < scores.numel() // 4
    diag = torch.arange(len(img))
    pess = retrieval_metrics(scores, diag, ks=KS, tie_policy="pessimistic")
    opt = retrieval_metrics(scores, diag, ks=KS, tie_policy="optimistic")
    for k in KS:
        for key, v in brute_force(scores, k, pessimistic=True).items():
            assert pess[key] == pytest.approx(v, abs=1e-12)
        for key, v in brute_force(scores, k, pessimistic=False).items():
            assert opt[key] == pytest.approx(v, abs=1e-12)
    ref = lotlip_r1(scores)
    for key, v in ref.items():  # whatever index torch.max picks among tied maxima
        assert pess[key] - 1e-6 <= v <= opt[key] + 1e-6
    assert pess["mean_R@1"] < opt["mean_R@1"]  # the ties really changed something


def test_hand_case_with_a_tie():
    # text 0 ties image 0 with image 1; image 2's best text is text 0 (0.9 > 0.5), so image 2 misses
    scores = torch.tensor([[0.8, 0.8, 0.9],
                           [0.1, 0.7, 0.0],
                           [0.2, 0.3, 0.5]])
    diag = torch.arange(3)
    pess = retrieval_metrics(scores, diag, ks=(1, 2), tie_policy="pessimistic")
    opt = retrieval_metrics(scores, diag, ks=(1, 2), tie_policy="optimistic")
    # text -> image: text 0's own image 0.8 < 0.9 (miss either way); text 1 hit; text 2 hit
    assert pess["text_to_image_R@1"] == opt["text_to_image_R@1"] == pytest.approx(2 / 3)
    # image -> text: image 0: 0.8 vs 0.1, 0.2 hit; image 1: 0.7 vs 0.8 miss; image 2: 0.5 vs 0.9 miss
    assert pess["image_to_text_R@1"] == opt["image_to_text_R@1"] == pytest.approx(1 / 3)
    # text 0 at k=2: image 0 ties image 1 below image 2 -> rank 3 (pessimistic) or 2 (optimistic)
    assert pess["text_to_image_R@2"] == pytest.approx(2 / 3)
    assert opt["text_to_image_R@2"] == pytest.approx(1.0)
