"""The model-family registry: a SPEC's prefix names the family whose loader builds its adapter.

A loader is `load(spec, device, precision, seed, trust_checkpoint) -> ModelAdapter`
(`lipeval.models.contract`), imported only when a model of its family is loaded (this module stays
torch-free). SPECs without a registered prefix — `local-dir:`, `hf-hub:` and plain paths — are open_clip's
own forms. Adding a family is one module with its loader and one line below.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lipeval.models.contract import ModelAdapter

FAMILIES: dict[str, str] = {
    "open_clip": "lipeval.models.adapter:load_model",
}
DEFAULT_FAMILY = "open_clip"


def family_of(spec: str) -> str:
    """The family of a SPEC: its prefix when one is registered, else the default (open_clip's forms)."""
    prefix, sep, _ = spec.strip().partition(":")
    return prefix if sep and prefix in FAMILIES else DEFAULT_FAMILY


def load_model(spec: str, device: str = "cpu", precision: str = "fp32", seed: int = 0,
               trust_checkpoint: bool = False) -> ModelAdapter:
    """The adapter of the model a SPEC names, built by its family's loader."""
    module, func = FAMILIES[family_of(spec)].split(":")
    loader = getattr(importlib.import_module(module), func)
    return loader(spec, device=device, precision=precision, seed=seed, trust_checkpoint=trust_checkpoint)
