"""Build the model to train with open_clip's factory, and describe it for the run folder.

CLIP and LiT are open_clip `CLIP` models from an architecture config (lipeval's tiny
configs included). LoTLIP is the same model with K extra vocabulary rows, switched to
corner-token text encoding (lipeval.models.corner_text). LiT loads a trained image tower
and locks it with open_clip's `lock_image_tower`.

The run folder's `open_clip_config.json` holds the exact `model_cfg` given to the factory,
the preprocessing config, and a `lipeval` block (variant, context length, corner tokens),
so `lipeval run --model RUN` rebuilds the same model with no extra flags.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lipeval.errors import ConfigError
from lipeval.models import corner_text
from lipeval.models.adapter import register_configs

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
    block = {"variant": "clip", "context_length": int(text.get("context_length", 77)), "trainer": "lipeval.train"}
    if k:
        text["vocab_size"] = base_vocab + k
        tok = open_clip.get_tokenizer(m["arch"])
        block = {**corner_text.marker(k, text.get("context_length", 77), base_vocab, tok.eot_token_id),
                 "trainer": "lipeval.train"}
    return model_cfg, block


def build(cfg: dict):
    """(model, tokenizer, train transform, eval transform, open_clip_config dict) on the CPU."""
    import open_clip

    model_cfg, block = model_config(cfg)
    m = cfg["model"]
    model, preprocess_train, preprocess_eval = open_clip.create_model_and_transforms(
        m["arch"], text_cfg=copy.deepcopy(model_cfg["text_cfg"]), device="cpu")
    tokenizer = open_clip.get_tokenizer(m["arch"], context_length=model_cfg["text_cfg"]["context_length"])
    if block["variant"] == corner_text.VARIANT:
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


def trim_padding(tokens: torch.Tensor, eot_id: int) -> torch.Tensor:
    """Drop the padding columns after the batch's last end-of-text.

    Exact for a causal text tower: a position's output depends only on the positions before
    it, so every pooled (EOT or corner) feature is unchanged, and the tower does far less
    work on short captions (open_clip always runs the full context length).
    """
    last = int((tokens == eot_id).int().argmax(dim=1).max())
    return tokens[:, :last + 1]


def encode_text_trimmed(clip, text: torch.Tensor) -> torch.Tensor:
    """open_clip's `CLIP.encode_text` for a sequence shorter than the context length."""
    from open_clip.transformer import text_global_pool

    n = text.shape[1]
    cast_dtype = clip.transformer.get_cast_dtype()
    x = clip.token_embedding(text).to(cast_dtype) + clip.positional_embedding[:n].to(cast_dtype)
    x = clip.transformer(x, attn_mask=clip.attn_mask[:n, :n])
    x = clip.ln_final(x)
    x = text_global_pool(x, text, clip.text_pool_type, eos_token_id=getattr(clip, "text_eos_id", None))
    if isinstance(clip.text_projection, nn.Linear):
        return clip.text_projection(x)
    return x @ clip.text_projection if clip.text_projection is not None else x


class ContrastiveModel(nn.Module):
    """What DDP wraps: images and the token batches of every text view -> normalised features.

    All views are encoded in one text forward, trimmed to the batch's longest text. A view
    with features 'all' on a corner-token model contributes K + 1 features (EOT first),
    every other view one.
    """

    def __init__(self, clip: nn.Module, view_features: list[str], lock_image: bool = False,
                 eot_id: int | None = None):
        super().__init__()
        self.clip = clip
        self.view_features = list(view_features)
        self.lock_image = lock_image
        self.corners = isinstance(clip, corner_text.CornerTextCLIP)
        self.eot_id = eot_id  # None: no trimming (the full context length, as open_clip runs it)
        if eot_id is not None and not self.corners and getattr(clip, "text_pool_type", "argmax") != "argmax":
            self.eot_id = None  # trimming is only known to be exact for EOT (argmax) pooling

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
        b = images.shape[0]
        text = torch.cat(tokens, dim=0)
        if self.eot_id is not None:
            text = trim_padding(text, self.eot_id)
        if self.corners:
            every = self.clip.encode_text_all(text, normalize=True)  # [V*B, K+1, D]
        elif self.eot_id is not None:
            every = F.normalize(encode_text_trimmed(self.clip, text), dim=-1)[:, None]  # [V*B, 1, D]
        else:
            every = self.clip.encode_text(text, normalize=True)[:, None]
        text_features = []
        for v, mode in enumerate(self.view_features):
            chunk = every[v * b:(v + 1) * b]
            text_features.extend(chunk.unbind(1) if mode == "all" else [chunk[:, 0]])
        return image_features, text_features, self.clip.logit_scale.exp()
