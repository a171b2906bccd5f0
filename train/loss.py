"""The contrastive loss over several text views (CLIP's symmetric InfoNCE; LoTLIP's views).

Each text feature view j is scored against the image features with open_clip's `ClipLoss`
(symmetric InfoNCE, in-batch negatives of the same view, features gathered across ranks with
gradients); the loss is the uniform mean over the views. With one view this is plain CLIP;
for LoTLIP the views are the short caption's EOT feature and the long caption's EOT and
corner features, so the mean runs over N_t = 1 + (K + 1) features.
"""
from __future__ import annotations

import torch
from torch import nn


class MultiViewClipLoss(nn.Module):
    def __init__(self, local_loss: bool = True, gather_with_grad: bool = True, rank: int = 0, world_size: int = 1):
        super().__init__()
        from open_clip.loss import ClipLoss

        self.clip_loss = ClipLoss(local_loss=local_loss, gather_with_grad=gather_with_grad, cache_labels=True,
                                  rank=rank, world_size=world_size)

    def forward(self, image_features: torch.Tensor, text_features: list[torch.Tensor],
                logit_scale: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(mean loss, per-view losses). Features must be L2-normalised."""
        per_view = [self.clip_loss(image_features, t, logit_scale) for t in text_features]
        return torch.stack(per_view).mean(), per_view
