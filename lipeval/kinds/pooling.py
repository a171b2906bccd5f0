"""Pooling embeddings by owner: the one definition both the zero-shot class weights (mean over a class's
prompts) and the non-reference subcaption_mean captions (mean over a caption's sentences) use."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def mean_of_normalised(emb: torch.Tensor, owner: Sequence[int], n: int) -> torch.Tensor:
    """(n, D): for each owner 0..n-1, the L2-normalised mean of its L2-normalised rows of `emb` (a zero row
    for an owner with none)."""
    emb = F.normalize(emb.float(), dim=-1)
    index = torch.as_tensor(owner, dtype=torch.long)
    sums = torch.zeros(n, emb.shape[1]).index_add_(0, index, emb)
    counts = torch.bincount(index, minlength=n).clamp(min=1).unsqueeze(1)
    return F.normalize(sums / counts, dim=-1)
