"""lipeval.metrics.retrieval against brute force, hand-worked cases and CLIP_benchmark's recall_at_k."""

import itertools
import math

import pytest
import torch

from lipeval.metrics import TIE_POLICIES
from lipeval.metrics.retrieval import retrieval_chance, retrieval_metrics, retrieval_ranks

KS = (1, 5, 10)


# ----------------------------------------------------------------------------------------------------------------
# data


def make_case(seed, n_images=24, decimals=1, counts=(0, 1, 2, 5, 5, 5, 6, 7)):
    """Random scores with many ties (rounded) and a COCO-like variable number of texts per image (0 to 7)."""
    g = torch.Generator().manual_seed(seed)
    per_image = torch.tensor(counts)[torch.randint(len(counts), (n_images,), generator=g)]
    text_image = torch.repeat_interleave(torch.arange(n_images), per_image)
    text_image = text_image[torch.randperm(len(text_image), generator=g)]  # texts not grouped by image
    scores = torch.rand(len(text_image), n_images, generator=g) * 2 - 1
    if decimals is not None:
        scores = torch.round(scores * 10**decimals) / 10**decimals
    return scores, text_image


def make_embeddings(seed, n_images=40, counts=(1, 5, 5, 6, 7), dim=16):
    """Normalised random embeddings (no ties) with 1 to 7 texts per image: scores = texts @ images.T."""
    g = torch.Generator().manual_seed(seed)
    per_image = torch.tensor(counts)[torch.randint(len(counts), (n_images,), generator=g)]
    text_image = torch.repeat_interleave(torch.arange(n_images), per_image)
    img = torch.nn.functional.normalize(torch.randn(n_images, dim, generator=g), dim=-1)
    txt = torch.nn.functional.normalize(torch.randn(len(text_image), dim, generator=g), dim=-1)
    txt = torch.nn.functional.normalize(txt + 0.8 * img[text_image], dim=-1)  # make retrieval non-trivial
    return txt @ img.T, text_image


# ----------------------------------------------------------------------------------------------------------------
# brute force: python loops, explicit sort with the tie rule written as a sort key


def brute_force(scores, text_image, ks, policy):
    S = scores.tolist()
    ti = text_image.tolist()
    n_texts, n_images = len(S), len(S[0])

    def tie_key(is_pos):  # position of a positive inside a group of equal scores
        return is_pos if policy == "pessimistic" else not is_pos

    t2i_rank = []
    for t in range(n_texts):
        order = sorted(range(n_images), key=lambda j: (-S[t][j], tie_key(j == ti[t])))
        t2i_rank.append(order.index(ti[t]) + 1)
    i2t_rank = []
    for i in range(n_images):
        positives = {t for t in range(n_texts) if ti[t] == i}
        if not positives:
            continue
        order = sorted(range(n_texts), key=lambda t: (-S[t][i], tie_key(t in positives)))
        i2t_rank.append(min(q for q, t in enumerate(order) if t in positives) + 1)
    out = {}
    for k in ks:
        out[f"image_to_text_R@{k}"] = sum(r <= k for r in i2t_rank) / len(i2t_rank)
        out[f"text_to_image_R@{k}"] = sum(r <= k for r in t2i_rank) / len(t2i_rank)
    return out, t2i_rank, i2t_rank


def clip_benchmark_recall(scores, text_image, ks, batch_size=16):
    """CLIP_benchmark's evaluate(): recall_at_k via batchify, then (recall > 0).mean()."""
    from clip_benchmark.metrics.zeroshot_retrieval import batchify, recall_at_k

    positive_pairs = torch.zeros_like(scores, dtype=torch.bool)
    positive_pairs[torch.arange(len(scores)), text_image] = True
    out = {}
    for k in ks:
        t2i = batchify(recall_at_k, scores, positive_pairs, batch_size, "cpu", k=k)
        i2t = batchify(recall_at_k, scores.T, positive_pairs.T, batch_size, "cpu", k=k)
        out[f"image_to_text_R@{k}"] = (i2t > 0).float().mean().item()
        out[f"text_to_image_R@{k}"] = (t2i > 0).float().mean().item()
    return out


def has_no_ties(scores):
    """No two equal values within any row."""
    s = scores.sort(dim=1)[0]
    return bool((s[:, 1:] != s[:, :-1]).all())


def assert_close(ours, ref, tol=1e-12):
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, abs=tol), key


# ----------------------------------------------------------------------------------------------------------------
# hand-worked cases

# 5 texts x 3 images; texts 0,1 -> image 0, texts 2,3,4 -> image 1, image 2 has no text.
HAND_S = torch.tensor(
    [
        [0.7, 0.7, 0.0],  # t0 -> img0: tied with img1               pess rank 2, opt rank 1
        [0.4, 0.6, 0.1],  # t1 -> img0: img1 above                   rank 2 both
        [0.5, 0.5, 0.4],  # t2 -> img1: tied with img0               pess rank 2, opt rank 1
        [0.1, 0.7, 0.2],  # t3 -> img1: clear top                    rank 1 both
        [0.3, 0.2, 0.3],  # t4 -> img1: both others above            rank 3 both
    ]
)
HAND_TI = torch.tensor([0, 0, 1, 1, 1])
# image columns: img0 = [.7 .4 .5 .1 .3], best positive t0 (.7), nothing else >= .7        -> rank 1 both
#                img1 = [.7 .6 .5 .7 .2], best positive t3 (.7), negative t0 tied at .7   -> pess 2, opt 1
#                img2 has no text: left out of the image->text mean


def test_hand_case_pessimistic():
    m = retrieval_metrics(HAND_S, HAND_TI, ks=(1, 2, 3), tie_policy="pessimistic")
    assert m["text_to_image_R@1"] == pytest.approx(1 / 5)  # t3
    assert m["text_to_image_R@2"] == pytest.approx(4 / 5)  # all but t4
    assert m["text_to_image_R@3"] == pytest.approx(1.0)
    assert m["image_to_text_R@1"] == pytest.approx(1 / 2)  # img0 only, img2 excluded
    assert m["image_to_text_R@2"] == pytest.approx(1.0)
    assert m["mean_R@1"] == pytest.approx((1 / 5 + 1 / 2) / 2)
    r = retrieval_ranks(HAND_S, HAND_TI)
    assert r.text_to_image.tolist() == [2, 2, 2, 1, 3]
    assert r.image_to_text.tolist() == [1, 2, 0]
    assert r.image_has_text.tolist() == [True, True, False]


def test_hand_case_optimistic():
    m = retrieval_metrics(HAND_S, HAND_TI, ks=(1, 2), tie_policy="optimistic")
    assert m["text_to_image_R@1"] == pytest.approx(3 / 5)  # t0, t2, t3
    assert m["text_to_image_R@2"] == pytest.approx(4 / 5)
    assert m["image_to_text_R@1"] == pytest.approx(1.0)
    assert m["mean_R@1"] == pytest.approx((3 / 5 + 1) / 2)
    r = retrieval_ranks(HAND_S, HAND_TI, tie_policy="optimistic")
    assert r.text_to_image.tolist() == [1, 2, 1, 1, 3]
    assert r.image_to_text.tolist() == [1, 1, 0]


def test_hand_case_reference():
    # At k=2 no tie straddles the top-k boundary, so topk's tie order cannot matter:
    #   t2i: t0 {0,1} hit, t1 {1,0} hit, t2 {0,1} hit, t3 hit, t4 {0,2} miss              -> 4/5
    #   i2t: img0 {t0,t2} hit, img1 {t0,t3} hit, img2 has no text: CLIP_benchmark counts it as a miss -> 2/3
    m = retrieval_metrics(HAND_S, HAND_TI, ks=(2, 3), tie_policy="reference")
    assert m["text_to_image_R@2"] == pytest.approx(4 / 5)
    assert m["image_to_text_R@2"] == pytest.approx(2 / 3)
    assert m["text_to_image_R@3"] == pytest.approx(1.0)
    assert m["image_to_text_R@3"] == pytest.approx(2 / 3)
    assert_close(m, clip_benchmark_recall(HAND_S, HAND_TI, (2, 3)), tol=1e-6)
    # at k=1 ties do straddle: the value lies between the pessimistic and optimistic ones
    r1 = retrieval_metrics(HAND_S, HAND_TI, ks=(1,), tie_policy="reference")
    assert 1 / 5 <= r1["text_to_image_R@1"] <= 3 / 5


def test_hand_square_one_caption_each():
    # 3x3, text i -> image i (the LoTLIP one-positive layout)
    S = torch.tensor([[0.5, 0.5, 0.1], [0.2, 0.9, 0.4], [0.3, 0.3, 0.3]])
    ti = torch.arange(3)
    pess = retrieval_metrics(S, ti, ks=(1, 2))
    opt = retrieval_metrics(S, ti, ks=(1, 2), tie_policy="optimistic")
    # t2i ranks: pess [2, 1, 3], opt [1, 1, 1]; i2t (columns): img0 [.5 .2 .3] r1, img1 [.5 .9 .3] r1,
    # img2 [.1 .4 .3]: t1 (.4) beats t2 (.3) -> r2 under both policies
    assert pess["text_to_image_R@1"] == pytest.approx(1 / 3)
    assert pess["text_to_image_R@2"] == pytest.approx(2 / 3)
    assert opt["text_to_image_R@1"] == pytest.approx(1.0)
    assert pess["image_to_text_R@1"] == opt["image_to_text_R@1"] == pytest.approx(2 / 3)
    assert pess["image_to_text_R@2"] == pytest.approx(1.0)
    assert pess["mean_R@1"] == pytest.approx(0.5)
    assert opt["mean_R@1"] == pytest.approx(5 / 6)


# ----------------------------------------------------------------------------------------------------------------
# brute force on random tied data


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
@pytest.mark.parametrize("seed,decimals", [(0, 1), (1, 1), (2, 2), (3, 0)])
def test_against_brute_force(policy, seed, decimals):
    scores, ti = make_case(seed, decimals=decimals)
    assert len(torch.unique(scores)) < scores.numel() / 2  # plenty of ties
    expected, t2i_rank, i2t_rank = brute_force(scores, ti, KS, policy)
    got = retrieval_metrics(scores, ti, ks=KS, tie_policy=policy, chunk_size=5)
    assert_close(got, expected)
    assert got["mean_R@1"] == pytest.approx((expected["image_to_text_R@1"] + expected["text_to_image_R@1"]) / 2)
    ranks = retrieval_ranks(scores, ti, tie_policy=policy, chunk_size=5)
    assert ranks.text_to_image.tolist() == t2i_rank
    assert ranks.image_to_text[ranks.image_has_text].tolist() == i2t_rank


def test_reference_between_pessimistic_and_optimistic():
    for seed in range(4):
        scores, ti = make_case(seed)
        pess = retrieval_metrics(scores, ti, tie_policy="pessimistic")
        opt = retrieval_metrics(scores, ti, tie_policy="optimistic")
        ref = retrieval_metrics(scores, ti, tie_policy="reference")
        for k in KS:
            key = f"text_to_image_R@{k}"
            assert pess[key] <= ref[key] <= opt[key]
        assert pess["text_to_image_R@1"] < opt["text_to_image_R@1"]  # the ties do matter here


# ----------------------------------------------------------------------------------------------------------------
# CLIP_benchmark


@pytest.mark.parametrize("seed", [0, 1])
def test_equals_clip_benchmark_without_ties(seed):
    scores, ti = make_embeddings(seed)
    assert has_no_ties(scores) and has_no_ties(scores.T)
    ref = clip_benchmark_recall(scores, ti, KS)
    assert 0.05 < ref["text_to_image_R@1"] < 0.95  # not a degenerate case
    for policy in TIE_POLICIES:
        got = retrieval_metrics(scores, ti, ks=KS, tie_policy=policy)
        assert_close(got, ref, tol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_equals_clip_benchmark_with_ties(seed):
    # includes images with no text, which CLIP_benchmark counts as image->text misses
    scores, ti = make_case(seed, n_images=30)
    assert (torch.bincount(ti, minlength=30) == 0).any()
    ref = clip_benchmark_recall(scores, ti, KS, batch_size=8)
    for chunk in (1, 7, 4096):
        got = retrieval_metrics(scores, ti, ks=KS, tie_policy="reference", chunk_size=chunk)
        assert_close(got, ref, tol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# chunking, inputs, validation


@pytest.mark.parametrize("policy", TIE_POLICIES)
def test_chunk_size_does_not_change_results(policy):
    scores, ti = make_case(5, n_images=37)
    results = [retrieval_metrics(scores, ti, ks=KS, tie_policy=policy, chunk_size=c) for c in (1, 7, 10**6)]
    assert results[0] == results[1] == results[2]
    if policy != "reference":
        ranks = [retrieval_ranks(scores, ti, tie_policy=policy, chunk_size=c) for c in (1, 7, 10**6)]
        for r in ranks[1:]:
            assert torch.equal(r.text_to_image, ranks[0].text_to_image)
            assert torch.equal(r.image_to_text, ranks[0].image_to_text)


def test_numpy_and_low_precision_inputs():
    scores, ti = make_case(6)
    base = retrieval_metrics(scores, ti)
    assert retrieval_metrics(scores.numpy(), ti.numpy()) == base
    assert retrieval_metrics(scores.double(), ti.int()) == base
    assert retrieval_metrics(scores.half(), ti) == retrieval_metrics(scores.half().float(), ti)


def test_k_larger_than_candidates():
    scores, ti = make_case(7, n_images=6)
    for policy in TIE_POLICIES:
        m = retrieval_metrics(scores, ti, ks=(100,), tie_policy=policy)
        assert m["text_to_image_R@100"] == 1.0
    assert retrieval_metrics(scores, ti, ks=(100,))["image_to_text_R@100"] == 1.0


def test_perfect_and_worst_scores():
    ti = torch.tensor([0, 0, 1, 2, 2, 2])
    perfect = torch.nn.functional.one_hot(ti, 3).float()
    for policy in TIE_POLICIES:
        assert retrieval_metrics(perfect, ti, ks=(1,), tie_policy=policy)["mean_R@1"] == 1.0
    flat = torch.zeros(6, 3)  # everything tied
    assert retrieval_metrics(flat, ti, ks=(1, 2))["mean_R@1"] == 0.0
    assert retrieval_metrics(flat, ti, ks=(1,), tie_policy="optimistic")["mean_R@1"] == 1.0
    # image 0 with 2 texts among 6: pessimistic rank = 1 + 4 negatives
    assert retrieval_ranks(flat, ti).image_to_text.tolist() == [5, 6, 4]


def test_validation_errors():
    scores, ti = make_case(8)
    with pytest.raises(ValueError):
        retrieval_metrics(scores, ti, tie_policy="random")
    with pytest.raises(ValueError):
        retrieval_metrics(scores, ti[:-1])
    with pytest.raises(ValueError):
        retrieval_metrics(scores, ti.float())
    with pytest.raises(ValueError):
        retrieval_metrics(scores, torch.full_like(ti, scores.shape[1]))
    with pytest.raises(ValueError):
        retrieval_metrics(scores, ti, ks=(0,))
    with pytest.raises(ValueError):
        retrieval_metrics(scores, ti, chunk_size=0)
    bad = scores.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError):
        retrieval_metrics(bad, ti)
    with pytest.raises(ValueError):
        retrieval_ranks(scores, ti, tie_policy="reference")


# ----------------------------------------------------------------------------------------------------------------
# chance


def enumerate_chance(n_images, text_image, ks):
    """Exact expectation by listing every ranking of the candidates of each query."""
    ti = list(text_image)
    n_texts = len(ti)
    out = {}
    for k in ks:
        hits = [any(p < k for p in range(n_images) if perm[p] == 0) for perm in itertools.permutations(range(n_images))]
        out[f"text_to_image_R@{k}"] = sum(hits) / len(hits)
        per_image = []
        for i in range(n_images):
            pos = {t for t in range(n_texts) if ti[t] == i}
            if not pos:
                continue
            perms = list(itertools.permutations(range(n_texts)))
            per_image.append(sum(any(perm[q] in pos for q in range(min(k, n_texts))) for perm in perms) / len(perms))
        out[f"image_to_text_R@{k}"] = sum(per_image) / len(per_image)
    out["mean_R@1"] = (out["image_to_text_R@1"] + out["text_to_image_R@1"]) / 2
    return out


def test_chance_exact_enumeration():
    ti = [0, 0, 0, 2, 3, 3]  # image 1 has no text; 6 texts, 4 images
    expected = enumerate_chance(4, ti, ks=(1, 2, 5))
    got = retrieval_chance(4, torch.tensor(ti), ks=(1, 2, 5))
    assert got == pytest.approx(expected, abs=1e-12)
    # closed forms
    assert got["text_to_image_R@2"] == pytest.approx(2 / 4)
    assert got["image_to_text_R@1"] == pytest.approx((3 / 6 + 1 / 6 + 2 / 6) / 3)


def test_chance_closed_form_coco_like():
    ti = torch.repeat_interleave(torch.arange(5000), torch.tensor([5] * 4990 + [6] * 8 + [7] * 2))
    got = retrieval_chance(5000, ti, ks=KS)
    n = len(ti)
    m_counts = {5: 4990, 6: 8, 7: 2}
    for k in KS:
        p = sum(c * (1 - math.comb(n - m, k) / math.comb(n, k)) for m, c in m_counts.items()) / 5000
        assert got[f"image_to_text_R@{k}"] == pytest.approx(p, rel=1e-12)
        assert got[f"text_to_image_R@{k}"] == pytest.approx(k / 5000)


def test_chance_monte_carlo():
    g = torch.Generator().manual_seed(0)
    scores0, ti = make_case(9, n_images=12, decimals=None)
    trials = 300
    totals = {}
    for _ in range(trials):
        s = torch.rand(scores0.shape, generator=g)
        for key, v in retrieval_metrics(s, ti, ks=(1, 5)).items():
            totals[key] = totals.get(key, 0.0) + v / trials
    exact = retrieval_chance(12, ti, ks=(1, 5))
    for key, v in exact.items():
        assert totals[key] == pytest.approx(v, abs=0.03), key
