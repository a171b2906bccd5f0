"""Build the model to train with open_clip's factory, and describe it for the run folder.

CLIP and LiT are open_clip `CLIP` models from an architecture config (lipeval's tiny
configs included); LoTLIP is the same model with K extra vocabulary rows for its corner
tokens. Every model's text tower runs through lipeval.models.corner_text (K = 0 for CLIP
and LiT: open_clip's own text encoding, with the padding trimmed), the same path the
adapter evaluates with. LiT loads a trained image tower and locks it with open_clip's
`lock_image_tower`.

The run folder's `open_clip_config.json` holds the exact `model_cfg` given to the factory,
the preprocessing config, and a `lipeval` block (variant, context length, corner tokens),
so `lipeval run --model RUN` rebuilds the same model with no extra flags.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from lipeval.errors import ConfigError
from lipeval.models import corner_text, register_configs

WEIGHTS = "open_clip_model.safetensors"


def resolve_weights(path: str | Path) -> Path:
    """A run folder (its latest weights) or a weights file."""
    p = Path(path)
    if p.is_dir():
        p = p / WEIGHTS
    if not p.is_file():
        raise ConfigError(f"checkpoint {path}: no weights file (expected a run folder holding {WEIGHTS}, or a file)")
    return p


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    p = resolve_weights(path)
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p))
    return torch.load(p, map_location="cpu", weights_only=True)


def model_config(cfg: dict) -> tuple[dict, dict]:
    """(model_cfg for open_clip's factory, lipeval block for open_clip_config.json)."""
    import open_clip

    register_configs()
    m = cfg["model"]
    base = open_clip.get_model_config(m["arch"])
    if base is None:
        import difflib

        close = difflib.get_close_matches(m["arch"], open_clip.list_models(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"config: model.arch {m['arch']!r} is not an open_clip architecture{hint}")
    if "hf_model_name" in base.get("text_cfg", {}) or base.get("custom_text"):
        raise ConfigError(f"config: model.arch {m['arch']!r} has a custom text tower; the trainer needs open_clip's "
                          "CLIP text transformer")
    model_cfg = copy.deepcopy(base)
    text = model_cfg["text_cfg"]
    if m["context_length"]:
        text["context_length"] = int(m["context_length"])
    base_vocab = int(text.get("vocab_size", 49408))
    k = int(m["corner_tokens"])
    text["vocab_size"] = base_vocab + k
    eot = open_clip.get_tokenizer(m["arch"]).eot_token_id
    block = {**corner_text.marker(k, text.get("context_length", 77), base_vocab, eot), "trainer": "lipeval.train"}
    return model_cfg, block


def build(cfg: dict):
    """(model, tokenizer, train transform, eval transform, open_clip_config dict) on the CPU."""
    import open_clip

    model_cfg, block = model_config(cfg)
    m = cfg["model"]
    model, preprocess_train, preprocess_eval = open_clip.create_model_and_transforms(
        m["arch"], text_cfg=copy.deepcopy(model_cfg["text_cfg"]), device="cpu")
    tokenizer = open_clip.get_tokenizer(m["arch"], context_length=model_cfg["text_cfg"]["context_length"])
    model, tokenizer = corner_text.apply_marker(model, tokenizer, block)
    if m["init"]:
        _load_into(model, load_state(m["init"]), f"model.init {m['init']}")
    if m["image_tower"]:
        state = load_state(m["image_tower"])
        visual = {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
        if not visual:
            raise ConfigError(f"model.image_tower {m['image_tower']}: no image-tower weights (keys visual.*)")
        _load_into(model.visual, visual, f"model.image_tower {m['image_tower']}")
    if m["lock_image"]:
        model.lock_image_tower()
    config_json = {"model_cfg": model_cfg, "preprocess_cfg": open_clip.get_model_preprocess_cfg(model),
                   corner_text.MARKER_KEY: block}
    return model, tokenizer, preprocess_train, preprocess_eval, config_json


def _load_into(module: nn.Module, state: dict, what: str) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()][:3]
        raise ConfigError(f"{what} does not fit model.arch: {' '.join(lines)[:500]}") from None


class ContrastiveModel(nn.Module):
    """What DDP wraps: images and the token batches of every text view -> normalised features.

    Each view is encoded on its own (so each is trimmed to its own longest text). A view with
    features 'all' contributes the EOT and every corner feature (K + 1), any other view its
    EOT feature.
    """

    def __init__(self, clip: corner_text.CornerTextCLIP, view_features: list[str], lock_image: bool = False):
        super().__init__()
        self.clip = clip
        self.view_features = list(view_features)
        self.lock_image = lock_image

    def train(self, mode: bool = True):
        super().train(mode)
        if self.lock_image:
            self.clip.visual.eval()  # LiT: the locked tower keeps its BatchNorm statistics
        return self

    def forward(self, images: torch.Tensor, tokens: list[torch.Tensor]):
        if self.lock_image:
            with torch.no_grad():
                image_features = self.clip.encode_image(images, normalize=True)
        else:
            image_features = self.clip.encode_image(images, normalize=True)
        text_features = []
        for tok, mode in zip(tokens, self.view_features):
            every = self.clip.encode_text_all(tok, normalize=True)  # [B, K+1, D], EOT first
            text_features.extend(every.unbind(1) if mode == "all" else [every[:, 0]])
        return image_features, text_features, self.clip.logit_scale.exp()
