"""Linear-probe metrics: 11-point interpolated AP, ROC AUC, mean(top1, top5), against hand-computed cases and
brute-force references, ties included."""
import itertools
import math

import numpy as np
import pytest
import torch

from lipeval.metrics.probe import mean_top1_top5, roc_auc, voc11_average_precision, voc11_map


# ------------------------------------------------------------------ 11-point interpolated AP

def _voc11_brute(scores, truth, order_key):
    """VOC 2007 devkit's loop, written out: sort, cumulate, then for t = 0, .1, ..., 1 the best precision at
    recall >= t (exact fractions, no floating point in the comparisons)."""
    from fractions import Fraction

    idx = sorted(range(len(scores)), key=order_key)
    tp, pairs = 0, []
    n_pos = sum(truth)
    for k, i in enumerate(idx, start=1):
        tp += truth[i]
        pairs.append((Fraction(tp, n_pos) if n_pos else Fraction(0), Fraction(tp, k)))
    if n_pos == 0:
        return 0.0
    total = Fraction(0)
    for t in range(11):
        ps = [p for r, p in pairs if r >= Fraction(t, 10)]
        total += max(ps) if ps else 0
    return float(total / 11)


def test_voc11_hand_computed():
    # sorted: + - + - +   precision 1, 1/2, 2/3, 2/4, 3/5   recall 1/3, 1/3, 2/3, 2/3, 1
    # t = 0 .. 0.3 -> 1 (4 points), t = 0.4 .. 0.6 -> 2/3 (3 points), t = 0.7 .. 1 -> 3/5 (4 points)
    scores = torch.tensor([[0.9], [0.8], [0.7], [0.6], [0.5]])
    targets = torch.tensor([[1], [0], [1], [0], [1]])
    expected = (4 * 1 + 3 * (2 / 3) + 4 * 0.6) / 11
    assert voc11_average_precision(scores, targets)[0].item() == pytest.approx(expected, abs=1e-12)


def test_voc11_exact_recall_points_are_reached():
    # 10 positives: recall hits exactly 0.3 at the third positive; it must count for t = 0.3
    truth = [1] * 3 + [0] * 5 + [1] * 7
    scores = torch.arange(len(truth), 0, -1, dtype=torch.float32)[:, None]
    got = voc11_average_precision(scores, torch.tensor(truth)[:, None])[0].item()
    assert got == pytest.approx(_voc11_brute(scores[:, 0].tolist(), truth, lambda i: -scores[i, 0].item()))
    assert got == pytest.approx((4 * 1.0 + 7 * (10 / 15)) / 11)


def test_voc11_class_without_positives_and_mean():
    scores = torch.tensor([[0.9, 0.1], [0.2, 0.3]])
    targets = torch.tensor([[1, 0], [0, 0]])
    ap = voc11_average_precision(scores, targets)
    assert ap.tolist() == [1.0, 0.0]
    assert voc11_map(scores, targets) == 0.5


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic", "reference"])
def test_voc11_against_brute_force_with_ties(policy):
    rng = np.random.default_rng(3)
    for _ in range(40):
        n, c = int(rng.integers(1, 12)), int(rng.integers(1, 4))
        scores = rng.integers(0, 4, size=(n, c)).astype(np.float32)  # many ties
        truth = rng.integers(0, 2, size=(n, c))
        got = voc11_average_precision(torch.from_numpy(scores), torch.from_numpy(truth), policy)
        for j in range(c):
            s, t = scores[:, j].tolist(), truth[:, j].tolist()
            key = {"pessimistic": lambda i: (-s[i], t[i], i), "optimistic": lambda i: (-s[i], -t[i], i),
                   "reference": lambda i: (-s[i], i)}[policy]
            assert got[j].item() == pytest.approx(_voc11_brute(s, t, key), abs=1e-12)


def test_voc11_tie_policies_bracket_each_other():
    scores = torch.zeros(4, 1)
    targets = torch.tensor([[0], [1], [0], [1]])
    pess = voc11_average_precision(scores, targets, "pessimistic")[0].item()
    opt = voc11_average_precision(scores, targets, "optimistic")[0].item()
    assert opt == 1.0 and pess == pytest.approx(0.5) and pess < opt  # all tied: negatives first -> 2/4


def test_voc11_rejects_bad_input():
    with pytest.raises(ValueError, match="binary"):
        voc11_average_precision(torch.zeros(2, 1), torch.tensor([[2], [0]]))
    with pytest.raises(ValueError, match="NaN"):
        voc11_average_precision(torch.tensor([[float("nan")], [0.0]]), torch.tensor([[1], [0]]))


# ------------------------------------------------------------------ ROC AUC

def _auc_pairs(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    return sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in itertools.product(pos, neg)) / (len(pos) * len(neg))


def test_roc_auc_hand_computed():
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)  # 3 of 4 pairs ordered
    assert roc_auc([1.0, 1.0, 0.0], [1, 0, 0]) == pytest.approx(0.75)  # one tie (1/2) + one win
    assert roc_auc([0.0, 0.0], [1, 0]) == 0.5
    assert roc_auc([3.0, 1.0, 2.0], [1, 0, 1]) == 1.0


def test_roc_auc_against_pair_counting_and_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 30))
        labels = rng.integers(0, 2, n)
        if labels.min() == labels.max():
            continue
        scores = rng.integers(-3, 4, n).astype(float)  # ties
        got = roc_auc(scores, labels)
        assert got == pytest.approx(_auc_pairs(scores.tolist(), labels.tolist()), abs=1e-12)
        assert got == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_undefined_with_one_class_and_bad_labels():
    assert math.isnan(roc_auc([0.3, 0.5], [1, 1]))
    with pytest.raises(ValueError, match="binary"):
        roc_auc([0.3, 0.5], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        roc_auc([0.3, 0.5], [1])


# ------------------------------------------------------------------ mean(top1, top5)

def test_mean_top1_top5():
    assert mean_top1_top5(0.5, 0.9) == pytest.approx(0.7)
    assert math.isnan(mean_top1_top5(0.5, float("nan")))
