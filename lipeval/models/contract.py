"""The model adapter contract: exactly what lipeval uses of a model.

The embedder (`lipeval.embed`, the only caller of the encoders), the embedding cache's keys and the model
cards (`lipeval.models.card`) use a model through this protocol and nothing else; kinds never see it (they
use `lipeval.kinds.contract.Embedder`). A new model family implements it in one module, as
`lipeval.models.adapter.ClipAdapter` does for open_clip models. Torch is only named for the type checker.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import torch


class ModelAdapter(Protocol):
    """A model that encodes images and texts, and says what the cache must know about it.

    Identity (keys the embedding cache and fills the record's `model` block):
      fingerprint     hash of the weights and the config
      context_length  tokens the text encoder sees
      truncation      how a longer text is cut (e.g. "keep_first_eot_last"), recorded with every result
      precision       "fp32" | "bf16" | "fp16"
      device          where the encoders run
    """

    fingerprint: str
    context_length: int
    truncation: str
    precision: str
    device: str

    def describe(self) -> dict[str, Any]:
        """The record's `model` block: spec, fingerprint, context_length, truncation, architecture, pretrained."""
        ...

    def transform_id(self) -> str:
        """The identity of the image transform (part of the image cache key)."""
        ...

    @property
    def preprocess(self) -> Callable[[Any], torch.Tensor]:
        """The image transform: an RGB PIL image -> a (C, H, W) tensor."""
        ...

    def image_feature_kinds(self, one_pass: bool = False) -> tuple[str, ...]:
        """The image feature kinds this model gives (`lipeval.kinds.contract.IMAGE_FEATURES`; always "embed").
        With `one_pass`: only those that one forward pass gives together."""
        ...

    def encode_image_features(self, images: torch.Tensor, features: Sequence[str] = ("embed",)
                              ) -> dict[str, torch.Tensor]:
        """Several feature kinds of one batch of transformed images, fp32 on the CPU: "embed" L2-normalised."""
        ...

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """(N, D) L2-normalised fp32 text embeddings on the CPU; the adapter tokenizes and truncates."""
        ...

    def token_ids(self, texts: list[str]) -> np.ndarray:
        """(N, context length) the token ids the text encoder sees (after truncation)."""
        ...

    def token_counts(self, texts: list[str]) -> list[int] | None:
        """Each text's token count before truncation, special tokens included; None when the tokenizer
        cannot say (then "nothing truncated" is never claimed)."""
        ...
