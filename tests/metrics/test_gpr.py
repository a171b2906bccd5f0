"""GPR1200 AP/mAP: hand-computed cases with ties, brute force, the reference ranking, chance by enumeration."""
import itertools
import math

import numpy as np
import pytest
import torch

from lipeval.metrics.gpr import average_precisions, expected_ap_random, gpr_chance, gpr_metrics

# Integer features, so every dot product (and every tie) is exact.
#        f0     f1     f2     f3     f4
FEATS = [[2, 0], [1, 1], [1, 0], [0, 2], [1, 1]]
CATS = [0, 0, 1, 1, 1]
# Dot products:  row q = query q
#   [4 2 2 0 2]
#   [2 2 1 2 2]
#   [2 1 1 0 1]
#   [0 2 0 4 2]
#   [2 2 1 2 2]
HAND = {
    # query 0: positives {0, 1}; 1 ties negatives 2 and 4 at score 2
    "pessimistic": [(1 + 2 / 4) / 2, (1 / 3 + 2 / 4) / 2, (1 / 3 + 2 / 4 + 3 / 5) / 3,
                    (1 + 2 / 3 + 3 / 5) / 3, (1 / 3 + 2 / 4 + 3 / 5) / 3],
    "optimistic": [(1 + 2 / 2) / 2, (1 + 2 / 2) / 2, (1 / 2 + 2 / 3 + 3 / 5) / 3,
                   (1 + 2 / 2 + 3 / 4) / 3, (1 + 2 / 2 + 3 / 5) / 3],
}


def _features():
    return torch.tensor(FEATS, dtype=torch.float32)


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_hand_computed_aps_with_ties(policy):
    got = average_precisions(_features(), CATS, tie_policy=policy)
    assert got.tolist() == pytest.approx(HAND[policy], abs=1e-12)
    # chunking never changes a number
    assert average_precisions(_features(), CATS, tie_policy=policy, chunk_size=2).tolist() == got.tolist()


def test_hand_computed_leave_one_out():
    got = average_precisions(_features(), CATS, tie_policy="pessimistic", leave_one_out=True)
    # query 0 keeps positive 1 tied with negatives 2 and 4 -> rank 3; query 2: 0, 1 above, 4 at 3, 3 at 4;
    # query 3: 1 at 1, 4 at 2, 0 at 3, 2 at 4
    assert got[0].item() == pytest.approx(1 / 3)
    assert got[2].item() == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert got[3].item() == pytest.approx((1 / 2 + 2 / 4) / 2)
    opt = average_precisions(_features(), CATS, tie_policy="optimistic", leave_one_out=True)
    assert opt[0].item() == pytest.approx(1.0)


def _naive(feats: np.ndarray, cats: np.ndarray, policy: str, leave_one_out: bool) -> list[float]:
    sim = feats @ feats.T
    out = []
    for q in range(len(cats)):
        items = [(sim[q, j], cats[j] == cats[q]) for j in range(len(cats)) if not (leave_one_out and j == q)]
        sign = 1 if policy == "pessimistic" else -1  # pessimistic: negatives (False) before positives
        items.sort(key=lambda t: (-t[0], sign * t[1]))
        hits, total = 0, 0.0
        for rank, (_, rel) in enumerate(items, 1):
            if rel:
                hits += 1
                total += hits / rank
        out.append(total / hits if hits else math.nan)
    return out


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
@pytest.mark.parametrize("leave_one_out", [False, True])
def test_brute_force_with_many_ties(policy, leave_one_out):
    rng = np.random.default_rng(3)
    feats = rng.integers(-1, 2, size=(70, 3)).astype(np.float32)
    cats = rng.integers(0, 9, size=70)
    cats[0] = 99  # a singleton category: no positive under leave-one-out
    got = average_precisions(feats, cats, tie_policy=policy, leave_one_out=leave_one_out, chunk_size=16)
    expected = _naive(feats.astype(np.float64), cats, policy, leave_one_out)
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-12)
    assert math.isnan(got[0].item()) == leave_one_out


def _reference_aps(feats: np.ndarray, cats: np.ndarray) -> list[float]:
    """The definition of docs/protocols.md §F.2: the full Q @ DB.T, torch.argsort(descending=True) per row,
    AP = sum over positives of (#positives so far) / (0-based rank + 1), divided by #positives in the DB."""
    sim = torch.tensor(feats) @ torch.tensor(feats).T
    order = torch.argsort(sim, dim=1, descending=True).numpy()
    out = []
    for q in range(len(cats)):
        rel = cats[order[q]] == cats[q]
        seen, score = 0, 0.0
        for i in np.where(rel)[0]:
            seen += 1
            score += seen / (i + 1.0)
        out.append(score / rel.sum())
    return out


def test_reference_policy_matches_the_reference_definition():
    rng = np.random.default_rng(4)
    feats = rng.normal(size=(120, 8)).astype(np.float32)
    feats[5] = feats[17]  # duplicate images: exact ties, resolved by torch.argsort as in the reference
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    cats = np.repeat(np.arange(12), 10)
    got = average_precisions(feats, cats, tie_policy="reference", chunk_size=32)
    np.testing.assert_allclose(got.numpy(), _reference_aps(feats, cats), rtol=0, atol=1e-12)
    # without ties all three policies agree
    clean = np.delete(np.arange(120), 5)
    for policy in ("pessimistic", "optimistic"):
        other = average_precisions(feats[clean], cats[clean], tie_policy=policy)
        ref = average_precisions(feats[clean], cats[clean], tie_policy="reference")
        np.testing.assert_allclose(other.numpy(), ref.numpy(), atol=1e-12)


def test_per_domain_means_follow_category_id_ranges():
    aps = [1.0, 0.5, 0.25, 0.75, 0.4, 0.2, float("nan")]
    cats = [3, 199, 200, 650, 1000, 1199, 1150]
    m = gpr_metrics(aps, cats)
    assert m["mAP"] == pytest.approx((1.0 + 0.5 + 0.25 + 0.75 + 0.4 + 0.2) / 6)
    assert m["mAP_landmarks"] == pytest.approx(0.75)
    assert m["mAP_inat"] == pytest.approx(0.25)
    assert math.isnan(m["mAP_sketch"]) and math.isnan(m["mAP_sop"])
    assert m["mAP_instre"] == pytest.approx(0.75)
    assert m["mAP_faces"] == pytest.approx(0.3)  # the NaN query is left out


def _enumerated_ap(n: int, r: int, query_first: bool) -> float:
    total, count = 0.0, 0
    rest = n - 1 if query_first else n
    pos_rest = r - 1 if query_first else r
    for perm in itertools.permutations(range(rest)):
        rel = [p < pos_rest for p in perm]
        if query_first:
            rel = [True] + rel
        hits, s = 0, 0.0
        for rank, x in enumerate(rel, 1):
            if x:
                hits += 1
                s += hits / rank
        total += s / r
        count += 1
    return total / count


@pytest.mark.parametrize("n,r", [(2, 1), (3, 2), (5, 2), (6, 3), (6, 6), (7, 1), (7, 4)])
def test_expected_ap_of_a_random_ranking_by_enumeration(n, r):
    assert expected_ap_random(n, r, query_first=False) == pytest.approx(_enumerated_ap(n, r, False), abs=1e-12)
    assert expected_ap_random(n, r, query_first=True) == pytest.approx(_enumerated_ap(n, r, True), abs=1e-12)


def test_chance_matches_random_features_on_average():
    cats = np.repeat(np.arange(6), 5)
    chance = gpr_chance(cats)["mAP"]
    rng = np.random.default_rng(5)
    runs = [average_precisions(torch.nn.functional.normalize(torch.tensor(rng.normal(size=(30, 64)),
                                                                          dtype=torch.float32), dim=1),
                               cats).mean().item() for _ in range(300)]
    assert np.mean(runs) == pytest.approx(chance, abs=0.01)
    assert gpr_chance(cats, leave_one_out=True)["mAP"] == pytest.approx(expected_ap_random(29, 4, False))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="categories"):
        average_precisions(_features(), [0, 1])
    with pytest.raises(ValueError, match="tie_policy"):
        average_precisions(_features(), CATS, tie_policy="mean")
