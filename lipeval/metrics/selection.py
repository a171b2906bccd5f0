"""Multiple-choice caption selection (ARO, SugarCrepe): is the true caption the image's best option?

Inputs shared by the functions here:

* ``scores``: (N, L) similarity of each case's image with each of its L caption options.
* ``answer``: (N,) index of the true option of each case.
* ``negatives``: optional (N, L) bool, which options count as negatives (default: every option but the
  answer). The caller leaves out, for example, an option whose text equals the true caption's.

A case is **correct** when the true option beats every negative. Ties are broken by the tie policy:

* ``pessimistic`` (default): the true option must score strictly higher than every negative (a tie is a miss);
* ``optimistic``: it must score at least as high as every negative;
* ``reference``: the reference implementation's own decision over **all** options, ``negatives`` ignored:
  ``rule="argmax"`` is ARO's ``np.argmax(scores) == answer`` (the first maximum wins, so a tie goes to the
  lower index), ``rule="strict"`` is SugarCrepe's ``pos > neg`` for every other option.

Aggregates: ``accuracy`` = mean over cases (micro); with per-case group labels (ARO's relation or attribute
pair) each group's accuracy and ``macro_accuracy`` = the unweighted mean over the groups that have at least
``min_items`` cases and are not in ``exclude`` (ARO: symmetric relations, pairs with fewer than 25 cases).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch

from lipeval.metrics import _as_tensor, _check_tie_policy

__all__ = ["REFERENCE_RULES", "choice_chance", "choice_correct", "group_accuracy"]

REFERENCE_RULES = ("argmax", "strict")


def _prepare(scores, answer, negatives) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scores = _as_tensor(scores, "scores")
    if scores.ndim != 2 or scores.shape[1] < 1:
        raise ValueError(f"scores must be 2-D (N cases, L options), got shape {tuple(scores.shape)}")
    scores = scores.to(torch.float32)
    if torch.isnan(scores).any():
        raise ValueError("scores contains NaN")
    n, n_opt = scores.shape
    answer = _as_tensor(answer, "answer")
    if answer.ndim != 1 or answer.shape[0] != n:
        raise ValueError(f"answer must be 1-D with one index per case ({n}), got shape {tuple(answer.shape)}")
    if answer.is_floating_point() or answer.dtype == torch.bool:
        raise ValueError(f"answer must hold integer option indices, got dtype {answer.dtype}")
    answer = answer.to(torch.long)
    if n and (int(answer.min()) < 0 or int(answer.max()) >= n_opt):
        raise ValueError(f"answer values must lie in [0, {n_opt}), got [{int(answer.min())}, {int(answer.max())}]")
    is_answer = torch.zeros((n, n_opt), dtype=torch.bool)
    is_answer[torch.arange(n), answer] = True
    if negatives is None:
        negatives = ~is_answer
    else:
        negatives = _as_tensor(negatives, "negatives").to(torch.bool)
        if tuple(negatives.shape) != (n, n_opt):
            raise ValueError(f"negatives must have the shape of scores {(n, n_opt)}, got {tuple(negatives.shape)}")
        negatives = negatives & ~is_answer  # the answer is never its own negative
    return scores, answer, negatives


def choice_correct(scores, answer, negatives=None, tie_policy: str = "pessimistic",
                   rule: str = "argmax") -> torch.Tensor:
    """(N,) bool: whether each case's true option wins (see the module docstring for the tie policies).

    A case without any negative is correct under ``pessimistic`` and ``optimistic`` (nothing beats the answer).
    ``rule`` says what ``tie_policy="reference"`` reproduces: ``"argmax"`` (ARO) or ``"strict"`` (SugarCrepe).
    """
    _check_tie_policy(tie_policy)
    if rule not in REFERENCE_RULES:
        raise ValueError(f"rule must be one of {REFERENCE_RULES}, got {rule!r}")
    scores, answer, negatives = _prepare(scores, answer, negatives)
    true = scores.gather(1, answer[:, None])
    if tie_policy == "reference":
        if rule == "argmax":
            # np.argmax: the first index holding the maximum
            first_max = torch.from_numpy(np.argmax(scores.numpy(), axis=1))
            return first_max == answer
        others = torch.ones_like(negatives)
        others[torch.arange(len(answer)), answer] = False
        return ((true > scores) | ~others).all(dim=1)
    beats = (true > scores) if tie_policy == "pessimistic" else (true >= scores)
    return (beats | ~negatives).all(dim=1)


def choice_chance(negatives_per_case: Sequence[int]) -> np.ndarray:
    """(N,) expected correctness under a random order of each case's options: 1 / (1 + #negatives)."""
    k = np.asarray(negatives_per_case, dtype=np.float64)
    return 1.0 / (1.0 + k)


def group_accuracy(values, groups: Sequence[str], min_items: int = 1,
                   exclude: Iterable[str] = ()) -> tuple[dict[str, float], float, dict[str, int]]:
    """Per-group mean of ``values`` (correctness, or its chance), and the macro mean over the kept groups.

    Returns (per-group mean for every group with >= ``min_items`` cases, macro mean over those groups not in
    ``exclude`` (NaN when none is left), case count per group). Groups appear in sorted order, as the
    reference's ``np.unique`` gives them.
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(list(groups), dtype=object)
    if values.shape != groups.shape:
        raise ValueError(f"values and groups must have one entry per case, got {values.shape} and {groups.shape}")
    excluded = set(exclude)
    per_group, counts = {}, {}
    for g in sorted(set(groups.tolist())):
        mask = groups == g
        counts[g] = int(mask.sum())
        if counts[g] >= min_items:
            per_group[g] = float(values[mask].mean())
    kept = [v for g, v in per_group.items() if g not in excluded]
    macro = float(np.mean(kept)) if kept else float("nan")
    return per_group, macro, counts
