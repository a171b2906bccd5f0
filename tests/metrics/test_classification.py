"""lipeval.metrics.classification against brute force, hand-worked cases, CLIP_benchmark and sklearn."""

import itertools
import math
import warnings

import pytest
import torch
from sklearn.metrics import balanced_accuracy_score

import lipeval.metrics.classification as clf
from lipeval.metrics import TIE_POLICIES
from lipeval.metrics.classification import (
    average_precision_per_class,
    classification_chance,
    classification_metrics,
    multilabel_metrics,
    topk_correct,
)

pytestmark = [
    # CLIP_benchmark's accuracy() converts a 1-element array with float(); sklearn warns about predicted classes
    # that never occur in the labels. Neither matters to the values compared here.
    pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0 to a scalar:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true:UserWarning"),
]

# ----------------------------------------------------------------------------------------------------------------
# data


def make_logits(seed, n=300, n_classes=9, decimals=1, missing=(2,)):
    """Random logits (rounded: many ties) and labels; classes in ``missing`` never occur in the labels."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(n_classes, (n,), generator=g)
    for c in missing:
        labels[labels == c] = (c + 1) % n_classes
    logits = torch.rand(n, n_classes, generator=g)
    logits[torch.arange(n), labels] += 0.15  # better than chance
    if decimals is not None:
        logits = torch.round(logits * 10**decimals) / 10**decimals
    return logits, labels


def make_multilabel(seed, n=200, n_classes=6, decimals=1):
    g = torch.Generator().manual_seed(seed)
    targets = (torch.rand(n, n_classes, generator=g) < 0.3).float()
    targets[:, -1] = 0  # a class with no positive
    scores = torch.rand(n, n_classes, generator=g) + 0.3 * targets
    if decimals is not None:
        scores = torch.round(scores * 10**decimals) / 10**decimals
    return scores, targets


def no_row_ties(x):
    s = x.sort(dim=1)[0]
    return bool((s[:, 1:] != s[:, :-1]).all())


# ----------------------------------------------------------------------------------------------------------------
# brute force


def brute_rank(row, label, policy):
    """Sort classes by score with the tie rule as a sort key; 1-based position of the label."""
    if policy == "pessimistic":
        key = lambda c: (-row[c], c == label)  # noqa: E731  (true class after tied others)
    else:
        key = lambda c: (-row[c], c != label)  # noqa: E731
    return sorted(range(len(row)), key=key).index(label) + 1


def brute_classification(logits, labels, policy):
    L, y = logits.tolist(), labels.tolist()
    ranks = [brute_rank(row, t, policy) for row, t in zip(L, y)]
    n_classes = len(L[0])
    acc1 = sum(r <= 1 for r in ranks) / len(ranks)
    acc5 = sum(r <= 5 for r in ranks) / len(ranks) if n_classes >= 5 else float("nan")
    recalls = []
    for c in sorted(set(y)):
        members = [r for r, t in zip(ranks, y) if t == c]
        recalls.append(sum(r <= 1 for r in members) / len(members))
    return {"acc1": acc1, "acc5": acc5, "mean_per_class_recall": sum(recalls) / len(recalls)}, ranks


def brute_ap(scores, targets, policy):
    S, T = scores.T.tolist(), targets.T.tolist()
    aps = []
    for s, t in zip(S, T):
        if policy == "pessimistic":
            order = sorted(range(len(s)), key=lambda i: (-s[i], t[i] == 1))
        else:
            order = sorted(range(len(s)), key=lambda i: (-s[i], t[i] != 1))
        hits, total = 0, 0.0
        for pos, i in enumerate(order, start=1):
            if t[i] == 1:
                hits += 1
                total += hits / pos
        aps.append(total / hits if hits else 0.0)
    return aps


def assert_metrics_equal(got, expected, tol=1e-12):
    assert set(got) == set(expected)
    for key, value in expected.items():
        if math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(value, abs=tol), key


def clip_benchmark_classification(logits, labels):
    """What CLIP_benchmark's evaluate() reports for these logits."""
    from clip_benchmark.metrics.zeroshot_classification import accuracy

    if logits.shape[1] >= 5:
        acc1, acc5 = accuracy(logits, labels, topk=(1, 5))
    else:
        (acc1,) = accuracy(logits, labels, topk=(1,))
        acc5 = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
        mpcr = balanced_accuracy_score(labels, logits.argmax(axis=1))
    return {"acc1": acc1, "acc5": acc5, "mean_per_class_recall": mpcr}


# ----------------------------------------------------------------------------------------------------------------
# hand-worked cases

# 4 samples x 5 classes
HAND_LOGITS = torch.tensor(
    [
        [0.9, 0.1, 0.2, 0.3, 0.4],  # label 0: clear top                           rank 1 both
        [0.5, 0.5, 0.1, 0.1, 0.1],  # label 1: tied with class 0                    pess 2, opt 1
        [0.2, 0.2, 0.2, 0.2, 0.2],  # label 2: all tied                             pess 5, opt 1
        [0.8, 0.7, 0.7, 0.7, 0.6],  # label 4: four classes above                 rank 5 both
    ]
)
HAND_LABELS = torch.tensor([0, 1, 2, 4])


def test_hand_case_pessimistic():
    m = classification_metrics(HAND_LOGITS, HAND_LABELS)
    assert m["acc1"] == pytest.approx(1 / 4)
    assert m["acc5"] == pytest.approx(1.0)
    # classes 0,1,2,4 present, one sample each: recall 1,0,0,0
    assert m["mean_per_class_recall"] == pytest.approx(1 / 4)
    assert topk_correct(HAND_LOGITS, HAND_LABELS, 2).tolist() == [True, True, False, False]
    assert topk_correct(HAND_LOGITS, HAND_LABELS, 4).tolist() == [True, True, False, False]


def test_hand_case_optimistic():
    m = classification_metrics(HAND_LOGITS, HAND_LABELS, tie_policy="optimistic")
    assert m["acc1"] == pytest.approx(3 / 4)
    assert m["acc5"] == pytest.approx(1.0)
    assert m["mean_per_class_recall"] == pytest.approx(3 / 4)
    assert topk_correct(HAND_LOGITS, HAND_LABELS, 4, "optimistic").tolist() == [True, True, True, False]


def test_hand_case_reference():
    # Samples 0 and 3 are tie-free at k=1 (0 hit, 3 miss); sample 3 is a hit at k=5 whatever topk does.
    m = classification_metrics(HAND_LOGITS, HAND_LABELS, tie_policy="reference")
    assert 1 / 4 <= m["acc1"] <= 3 / 4
    assert m["acc5"] == pytest.approx(1.0)
    # argmax returns the first maximum: sample 1 -> class 0 (miss), sample 2 -> class 0 (miss)
    assert m["mean_per_class_recall"] == pytest.approx(1 / 4)
    assert_metrics_equal(m, clip_benchmark_classification(HAND_LOGITS, HAND_LABELS), tol=1e-6)
    tie_free = torch.tensor([[0.9, 0.1, 0.2], [0.1, 0.3, 0.2]])
    assert topk_correct(tie_free, torch.tensor([0, 2]), 1, "reference").tolist() == [True, False]
    assert topk_correct(tie_free, torch.tensor([0, 2]), 2, "reference").tolist() == [True, True]


def test_hand_case_fewer_than_five_classes():
    logits = torch.tensor([[0.3, 0.3, 0.1], [0.1, 0.2, 0.7]])
    labels = torch.tensor([1, 2])
    for policy in TIE_POLICIES:
        m = classification_metrics(logits, labels, tie_policy=policy)
        assert math.isnan(m["acc5"])
    assert classification_metrics(logits, labels)["acc1"] == pytest.approx(1 / 2)
    assert classification_metrics(logits, labels, "optimistic")["acc1"] == pytest.approx(1.0)


def test_hand_case_average_precision():
    scores = torch.tensor([[0.9, 0.0], [0.5, 0.0], [0.5, 0.0], [0.1, 0.0]])
    targets = torch.tensor([[1, 0], [0, 0], [1, 0], [0, 0]])
    # pessimistic order P N P N: (1/1 + 2/3) / 2; optimistic P P N N: (1 + 1) / 2; column 2 has no positive: 0
    pess = average_precision_per_class(scores, targets)
    opt = average_precision_per_class(scores, targets, "optimistic")
    ref = average_precision_per_class(scores, targets, "reference")
    assert pess.tolist() == pytest.approx([5 / 6, 0.0])
    assert opt.tolist() == pytest.approx([1.0, 0.0])
    assert 5 / 6 - 1e-12 <= ref[0] <= 1.0 + 1e-12 and ref[1] == 0.0
    assert multilabel_metrics(scores, targets)["mAP"] == pytest.approx(5 / 12)
    assert multilabel_metrics(scores, targets, "optimistic")["mAP"] == pytest.approx(1 / 2)


# ----------------------------------------------------------------------------------------------------------------
# brute force on random tied data


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
@pytest.mark.parametrize("seed,n_classes,decimals", [(0, 9, 1), (1, 9, 2), (2, 3, 1), (3, 12, 0)])
def test_classification_against_brute_force(policy, seed, n_classes, decimals):
    logits, labels = make_logits(seed, n_classes=n_classes, decimals=decimals, missing=(1,))
    expected, ranks = brute_classification(logits, labels, policy)
    assert_metrics_equal(classification_metrics(logits, labels, tie_policy=policy), expected)
    for k in (1, 2, 5, 20):
        assert topk_correct(logits, labels, k, policy).tolist() == [r <= k for r in ranks]


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
@pytest.mark.parametrize("seed,decimals", [(0, 1), (1, 2), (2, 0)])
def test_average_precision_against_brute_force(policy, seed, decimals):
    scores, targets = make_multilabel(seed, decimals=decimals)
    expected = brute_ap(scores, targets, policy)
    got = average_precision_per_class(scores, targets, tie_policy=policy)
    assert got.tolist() == pytest.approx(expected, abs=1e-12)
    assert got[-1] == 0.0
    assert multilabel_metrics(scores, targets, policy)["mAP"] == pytest.approx(sum(expected) / len(expected))


def test_ties_matter_and_reference_lies_between():
    logits, labels = make_logits(4)
    pess = classification_metrics(logits, labels, "pessimistic")
    opt = classification_metrics(logits, labels, "optimistic")
    ref = classification_metrics(logits, labels, "reference")
    assert pess["acc1"] < opt["acc1"]
    for key in ("acc1", "acc5", "mean_per_class_recall"):
        assert pess[key] <= ref[key] <= opt[key]
    scores, targets = make_multilabel(4)
    ap = [average_precision_per_class(scores, targets, p) for p in ("pessimistic", "reference", "optimistic")]
    assert bool((ap[0] <= ap[1] + 1e-9).all() and (ap[1] <= ap[2] + 1e-9).all())
    assert bool((ap[0] < ap[2]).any())


# ----------------------------------------------------------------------------------------------------------------
# CLIP_benchmark and sklearn


@pytest.mark.parametrize("seed,n_classes", [(0, 9), (1, 4), (2, 30)])
def test_equals_clip_benchmark_without_ties(seed, n_classes):
    logits, labels = make_logits(seed, n_classes=n_classes, decimals=None)
    assert no_row_ties(logits)
    ref = clip_benchmark_classification(logits, labels)
    assert ref["mean_per_class_recall"] == pytest.approx(
        balanced_accuracy_score(labels.numpy(), logits.argmax(1).numpy()), abs=1e-12
    )
    for policy in TIE_POLICIES:
        assert_metrics_equal(classification_metrics(logits, labels, tie_policy=policy), ref, tol=1e-6)


@pytest.mark.parametrize("seed,n_classes", [(0, 9), (1, 4), (5, 6)])
def test_reference_equals_clip_benchmark_with_ties(seed, n_classes):
    logits, labels = make_logits(seed, n_classes=n_classes)
    assert not no_row_ties(logits)
    got = classification_metrics(logits, labels, tie_policy="reference")
    assert_metrics_equal(got, clip_benchmark_classification(logits, labels), tol=1e-6)
    from clip_benchmark.metrics.zeroshot_classification import accuracy

    for k in (1, 3):
        assert topk_correct(logits, labels, k, "reference").float().mean().item() == pytest.approx(
            accuracy(logits, labels, topk=(k,))[0], abs=1e-6
        )


def test_average_precision_equals_clip_benchmark():
    from clip_benchmark.metrics.zeroshot_classification import average_precision_per_class as cb_ap

    scores, targets = make_multilabel(0, decimals=None)
    ref = cb_ap(scores, targets)
    for policy in TIE_POLICIES:
        got = average_precision_per_class(scores, targets, policy)
        assert torch.allclose(got.float(), ref, atol=1e-6)
    for seed in (1, 2):
        tied_scores, tied_targets = make_multilabel(seed, decimals=1)
        got = average_precision_per_class(tied_scores, tied_targets, "reference")
        assert torch.allclose(got.float(), cb_ap(tied_scores, tied_targets), atol=1e-6)
        got_map = multilabel_metrics(tied_scores, tied_targets, "reference")["mAP"]
        assert got_map == pytest.approx(cb_ap(tied_scores, tied_targets).mean().item(), abs=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# chunking, inputs, validation


@pytest.mark.parametrize("policy", TIE_POLICIES)
def test_chunking_does_not_change_results(policy, monkeypatch):
    logits, labels = make_logits(6)
    base = classification_metrics(logits, labels, policy)
    for chunk in (1, 7):
        monkeypatch.setattr(clf, "_CHUNK", chunk)
        assert classification_metrics(logits, labels, policy) == base


def test_numpy_and_dtype_inputs():
    logits, labels = make_logits(7)
    base = classification_metrics(logits, labels)
    assert classification_metrics(logits.numpy(), labels.numpy()) == base
    assert classification_metrics(logits.double(), labels.int()) == base
    scores, targets = make_multilabel(7)
    ap = average_precision_per_class(scores, targets)
    assert torch.equal(average_precision_per_class(scores.numpy(), targets.bool().numpy()), ap)


def test_validation_errors():
    logits, labels = make_logits(8)
    with pytest.raises(ValueError):
        classification_metrics(logits, labels, tie_policy="best")
    with pytest.raises(ValueError):
        classification_metrics(logits, labels[:-1])
    with pytest.raises(ValueError):
        classification_metrics(logits, labels.float())
    with pytest.raises(ValueError):
        classification_metrics(logits, torch.full_like(labels, logits.shape[1]))
    with pytest.raises(ValueError):
        topk_correct(logits, labels, 0)
    with pytest.raises(ValueError):
        average_precision_per_class(logits, torch.full_like(logits, 2))


# ----------------------------------------------------------------------------------------------------------------
# chance


def enumerate_accuracy(n_classes, k):
    """P(true class among the first k) over every ordering of the classes (true class = 0)."""
    perms = list(itertools.permutations(range(n_classes)))
    return sum(0 in perm[:k] for perm in perms) / len(perms)


@pytest.mark.parametrize("n_classes", [1, 3, 5, 7])
def test_chance_exact_enumeration(n_classes):
    labels = torch.arange(n_classes).repeat(3)
    got = classification_chance(labels, n_classes)
    assert got["acc1"] == pytest.approx(enumerate_accuracy(n_classes, 1))
    assert got["mean_per_class_recall"] == pytest.approx(enumerate_accuracy(n_classes, 1))
    if n_classes >= 5:
        assert got["acc5"] == pytest.approx(enumerate_accuracy(n_classes, 5))
    else:
        assert math.isnan(got["acc5"])
    assert classification_chance(torch.zeros(4, n_classes), n_classes) == {}


def test_chance_monte_carlo():
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(8, (400,), generator=g)
    trials = 200
    totals = {"acc1": 0.0, "acc5": 0.0, "mean_per_class_recall": 0.0}
    for _ in range(trials):
        m = classification_metrics(torch.rand(400, 8, generator=g), labels)
        for key in totals:
            totals[key] += m[key] / trials
    exact = classification_chance(labels, 8)
    for key, value in exact.items():
        assert totals[key] == pytest.approx(value, abs=0.01), key
