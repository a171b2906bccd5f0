"""Pure metric functions on score matrices (no model or dataset knowledge).

Every function takes torch tensors (numpy arrays and lists are converted), ranks in fp32 and accepts a
``tie_policy``:

* ``"pessimistic"`` (default, lipeval's definition, docs/protocols.md §0.2): a negative that scores **equal** to the
  positive is ranked above it, so a tie counts as a miss.
* ``"optimistic"``: only negatives scoring **strictly** higher are ranked above the positive.
* ``"reference"``: reproduce the reference implementation (CLIP_benchmark) call for call, including whatever
  order ``torch.topk`` / ``torch.sort`` / ``torch.argmax`` give to tied values. Only for side-by-side checks.

On inputs without ties the three policies agree.
"""

import torch

# Defined before the submodule imports below: the submodules import these names from this package.
TIE_POLICIES = ("pessimistic", "optimistic", "reference")


def _check_tie_policy(tie_policy: str) -> str:
    if tie_policy not in TIE_POLICIES:
        raise ValueError(f"tie_policy must be one of {TIE_POLICIES}, got {tie_policy!r}")
    return tie_policy


def _as_tensor(x, name: str):
    """``x`` as a torch tensor (numpy arrays, lists and tensors accepted; no copy when already a tensor)."""
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be a tensor or an array, got {type(x).__name__}") from exc


def _has_nan(x: torch.Tensor, rows: int = 1024) -> bool:
    """NaN check in row chunks (no full-size boolean temporary)."""
    return any(bool(torch.isnan(x[i:i + rows]).any()) for i in range(0, x.shape[0], rows))


from lipeval.metrics.classification import (  # noqa: E402
    average_precision_per_class,
    classification_chance,
    classification_metrics,
    multilabel_metrics,
    topk_correct,
)
from lipeval.metrics.retrieval import (  # noqa: E402
    RetrievalRanks,
    retrieval_chance,
    retrieval_metrics,
    retrieval_ranks,
)

__all__ = [
    "TIE_POLICIES",
    "RetrievalRanks",
    "average_precision_per_class",
    "classification_chance",
    "classification_metrics",
    "multilabel_metrics",
    "retrieval_chance",
    "retrieval_metrics",
    "retrieval_ranks",
    "topk_correct",
]
