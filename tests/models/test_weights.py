"""The weights fingerprint: pinned values (it keys users' embedding caches and is in every record)."""
from pathlib import Path

import torch

from lipeval.models.weights import weights_fingerprint


def _module() -> torch.nn.Module:
    """Fixed weights, a BatchNorm's buffers (int64 counter included) and a zero-element buffer."""
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    m.register_buffer("empty", torch.zeros(0, 2))
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(torch.arange(p.numel(), dtype=p.dtype).reshape(p.shape) / (i + 1))
    return m


def test_fingerprint_values_are_pinned():
    m = _module()
    assert weights_fingerprint(m) == weights_fingerprint(m, {}) == "ba0e27ee9b7683f8"
    assert weights_fingerprint(m, {"embed_dim": 2, "path": Path("x")}) == "f4fb35fa58f22a7d"


def test_fingerprint_sees_every_weight_and_the_config():
    m = _module()
    before = weights_fingerprint(m, {"a": 1})
    assert weights_fingerprint(m, {"a": 2}) != before
    with torch.no_grad():
        m[0].bias[1] += 1e-6
    assert weights_fingerprint(m, {"a": 1}) != before
