"""AdamW with weight decay on weight matrices only, and open_clip's warm-up + cosine schedule."""
from __future__ import annotations

import math

import torch
from torch import nn


def no_decay(name: str, param: torch.Tensor) -> bool:
    """Gains, biases, embeddings (token, positional, class) and the logit scale get no weight decay."""
    return param.ndim < 2 or "embedding" in name or name.endswith("logit_scale")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, plain = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (plain if no_decay(name, p) else decay).append(p)
    return [{"params": plain, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def build_optimizer(model: nn.Module, optim_cfg: dict) -> torch.optim.Optimizer:
    groups = [g for g in param_groups(model, float(optim_cfg["weight_decay"])) if g["params"]]
    kwargs = {"lr": float(optim_cfg["lr"]), "betas": tuple(optim_cfg["betas"]), "eps": float(optim_cfg["eps"])}
    try:  # the fused kernel is several times faster, on the CPU too (torch >= 2.4)
        return torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, **kwargs)


def build_schedule(optimizer: torch.optim.Optimizer, lr: float, warmup: int, steps: int):
    """step -> lr, set on the optimizer; stateless, so a resumed run follows the same curve."""
    from open_clip_train.scheduler import cosine_lr

    return cosine_lr(optimizer, lr, warmup, steps)


def clamp_logit_scale(model: nn.Module, max_scale: float) -> None:
    """Keep exp(logit_scale) in [1, max_scale] (open_clip's clamp at 100)."""
    with torch.no_grad():
        model.logit_scale.clamp_(0, math.log(max_scale))
