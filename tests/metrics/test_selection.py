"""Caption-selection correctness and group accuracy: hand cases with ties, brute force, reference rules."""
import itertools
import math

import numpy as np
import pytest
import torch

from lipeval.metrics.selection import choice_chance, choice_correct, group_accuracy

# 5 cases x 3 options. Answers: 0, 1, 2, 0, 1.
SCORES = [
    [0.9, 0.1, 0.2],  # clear win
    [0.5, 0.5, 0.1],  # the answer (1) ties option 0
    [0.3, 0.3, 0.3],  # three-way tie, answer 2
    [0.4, 0.6, 0.1],  # clear loss
    [0.2, 0.7, 0.7],  # the answer (1) ties option 2
]
ANSWER = [0, 1, 2, 0, 1]


def test_hand_cases_under_each_tie_policy():
    assert choice_correct(SCORES, ANSWER, tie_policy="pessimistic").tolist() == [True, False, False, False, False]
    assert choice_correct(SCORES, ANSWER, tie_policy="optimistic").tolist() == [True, True, True, False, True]
    # np.argmax: the first maximum wins -> case 1 picks 0 (wrong), case 2 picks 0 (wrong), case 4 picks 1 (right)
    assert choice_correct(SCORES, ANSWER, tie_policy="reference", rule="argmax").tolist() == \
        [True, False, False, False, True]
    # strict: the answer must beat every other option
    assert choice_correct(SCORES, ANSWER, tie_policy="reference", rule="strict").tolist() == \
        [True, False, False, False, False]


def test_negatives_mask_leaves_options_out():
    negatives = np.ones((5, 3), dtype=bool)
    negatives[1, 0] = False  # the option tying the answer is not a negative -> correct
    negatives[3, 1] = False  # the winning option is not a negative -> correct
    negatives[2, :] = False  # no negative at all -> correct (nothing beats the answer)
    got = choice_correct(SCORES, ANSWER, torch.from_numpy(negatives), tie_policy="pessimistic")
    assert got.tolist() == [True, True, True, True, False]
    # reference ignores the mask: ARO's argmax sees every option
    ref = choice_correct(SCORES, ANSWER, torch.from_numpy(negatives), tie_policy="reference")
    assert ref.tolist() == [True, False, False, False, True]


def test_brute_force_on_integer_scores_with_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(400, 4)).astype(np.float32)
    answer = rng.integers(0, 4, size=400)
    negatives = rng.random((400, 4)) < 0.8
    for policy in ("pessimistic", "optimistic"):
        got = choice_correct(scores, answer, torch.from_numpy(negatives), tie_policy=policy).tolist()
        for c in range(400):
            a = answer[c]
            others = [scores[c, j] for j in range(4) if j != a and negatives[c, j]]
            if policy == "pessimistic":
                expected = all(scores[c, a] > s for s in others)
            else:
                expected = all(scores[c, a] >= s for s in others)
            assert got[c] == expected, (policy, c)
    got = choice_correct(scores, answer, tie_policy="reference", rule="argmax").tolist()
    assert got == [list(row).index(max(row)) == a for row, a in zip(scores.tolist(), answer)]


def test_two_options_sugarcrepe_and_vg_rules_are_pessimistic():
    """[pos, neg] with strict `>` (SugarCrepe) and [false, true] with argmax == 1 (ARO VG) both count ties
    as misses, so they equal the pessimistic policy on two options."""
    rng = np.random.default_rng(1)
    s = rng.integers(0, 2, size=(200, 2)).astype(np.float32)
    pess0 = choice_correct(s, [0] * 200, tie_policy="pessimistic")
    assert torch.equal(pess0, choice_correct(s, [0] * 200, tie_policy="reference", rule="strict"))
    pess1 = choice_correct(s, [1] * 200, tie_policy="pessimistic")
    assert torch.equal(pess1, choice_correct(s, [1] * 200, tie_policy="reference", rule="argmax"))


def test_group_accuracy_min_items_and_exclusion():
    correct = [1, 0, 1, 1, 1, 0, 0, 1]
    groups = ["on", "on", "near", "near", "near", "of", "eat", "eat"]
    per, macro, counts = group_accuracy(correct, groups)
    assert per == {"eat": 0.5, "near": 1.0, "of": 0.0, "on": 0.5}  # sorted, as np.unique
    assert macro == pytest.approx((0.5 + 1.0 + 0.0 + 0.5) / 4)
    assert counts == {"eat": 2, "near": 3, "of": 1, "on": 2}
    per, macro, _ = group_accuracy(correct, groups, exclude={"near", "of"})
    assert set(per) == {"eat", "near", "of", "on"} and macro == pytest.approx(0.5)
    per, macro, _ = group_accuracy(correct, groups, min_items=2)
    assert set(per) == {"eat", "near", "on"} and macro == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    _, macro, _ = group_accuracy(correct, groups, min_items=4)
    assert math.isnan(macro)


def test_chance_is_one_over_options():
    assert choice_chance([1, 4, 0]).tolist() == [0.5, 0.2, 1.0]
    # the expected correctness of a random order of 1 + k distinct scores, by enumeration
    for k in range(1, 4):
        wins = sum(p[0] == max(p) for p in itertools.permutations(range(k + 1)))
        assert wins / math.factorial(k + 1) == pytest.approx(choice_chance([k])[0])


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="answer values"):
        choice_correct([[0.1, 0.2]], [2])
    with pytest.raises(ValueError, match="NaN"):
        choice_correct([[float("nan"), 0.2]], [0])
    with pytest.raises(ValueError, match="tie_policy"):
        choice_correct([[0.1, 0.2]], [0], tie_policy="random")
    with pytest.raises(ValueError, match="rule"):
        choice_correct([[0.1, 0.2]], [0], tie_policy="reference", rule="max")
