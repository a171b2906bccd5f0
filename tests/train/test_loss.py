"""The multi-view contrastive loss against hand-computed values."""
import math

import pytest
import torch

from lipeval.train.loss import MultiViewClipLoss


def test_single_view_matches_a_hand_computed_case():
    # Two images and texts on orthonormal axes, scale 1: every row of the logit matrix is
    # [1, 0] or [0, 1], so each cross-entropy term is -log(e / (e + 1)) = log(1 + 1/e).
    img = torch.eye(2)
    loss, per_view = MultiViewClipLoss()(img, [torch.eye(2)], torch.tensor(1.0))
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    assert len(per_view) == 1


def test_mean_over_views_with_a_swapped_view_and_a_scale():
    img = torch.eye(2)
    swapped = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # each text matches the other image
    loss, per_view = MultiViewClipLoss()(img, [torch.eye(2), swapped], torch.tensor(2.0))
    right = math.log(1 + math.exp(-2))  # logits [2, 0] with the positive at 2
    wrong = math.log(1 + math.exp(2))  # logits [0, 2] with the positive at 0
    assert per_view[0].item() == pytest.approx(right, abs=1e-6)
    assert per_view[1].item() == pytest.approx(wrong, abs=1e-6)
    assert loss.item() == pytest.approx((right + wrong) / 2, abs=1e-6)


def test_asymmetric_case_averages_both_directions():
    # 3 images, 3 texts, scale 1; logits S = I T^T. Hand-computed: the image->text and
    # text->image cross-entropies differ, the loss is their mean.
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    txt = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    s = img @ txt.T

    def ce(rows):
        return sum(-r[i].item() + math.log(sum(math.exp(v.item()) for v in r)) for i, r in enumerate(rows)) / 3

    expected = (ce(s) + ce(s.T)) / 2
    loss, _ = MultiViewClipLoss()(img, [txt], torch.tensor(1.0))
    assert loss.item() == pytest.approx(expected, abs=1e-6)
