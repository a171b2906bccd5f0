"""The fingerprint of a model's weights: one hash of its state dict, shared by the evaluator and the trainer.

The adapter's fingerprint keys the embedding cache and is written into every result record, so
its bytes must never change; the trainer uses the same hash to check that DDP replicas agree.
Only torch is needed, so the trainer can use it without loading the model adapter.
"""
from __future__ import annotations

import hashlib
import json

import torch


def weights_fingerprint(model: torch.nn.Module, config: dict | None = None) -> str:
    """16 hex digits of SHA-256 over `config` (as sorted JSON) and every state-dict entry's name,
    dtype, shape and bytes, in name order: equal fingerprints mean the same weights and config."""
    h = hashlib.sha256(json.dumps({} if config is None else config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        t = tensor.detach().to("cpu").contiguous()
        h.update(str(t.dtype).encode() + str(tuple(t.shape)).encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]
