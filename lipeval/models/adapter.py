"""The model adapter: one small interface over every open_clip-loadable model.

It owns tokenisation, the context length and the truncation rule (and records them), the
image transform, precision and device, and a fingerprint of the weights that keys the
embedding cache. Loading goes through open_clip's factory and checkpoint loader.
"""
from __future__ import annotations

import difflib
import pickle
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lipeval.errors import ConfigError
from lipeval.models import register_configs
from lipeval.models.spec import ModelSpec, parse_spec
from lipeval.models.weights import weights_fingerprint


def _truncation_rule(tokenizer) -> str:
    if getattr(tokenizer, "truncation_rule", None):  # e.g. corner-token models: keep_first_corners_eot_last
        return tokenizer.truncation_rule
    if getattr(tokenizer, "reduction_fn", None) is not None:
        return f"open_clip_reduction:{tokenizer.reduction_fn}"
    if hasattr(tokenizer, "eot_token_id") and hasattr(tokenizer, "encode"):
        return "keep_first_eot_last"  # tokens[:ctx]; tokens[-1] = end-of-text
    return f"tokenizer_default:{type(tokenizer).__name__}"


class ClipAdapter:
    """Encode images and texts with an open_clip model; outputs are L2-normalised fp32 on CPU."""

    def __init__(self, model, tokenizer, preprocess, spec: ModelSpec, config: dict, device: str,
                 precision: str, seed: int):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.spec = spec
        self.config = config
        self.device = device
        self.precision = precision
        self.seed = seed
        self.context_length = int(getattr(tokenizer, "context_length", None) or getattr(model, "context_length", 77))
        self.truncation = _truncation_rule(tokenizer)
        self.fingerprint = weights_fingerprint(model, config)
        self.calls: Counter = Counter()  # encoder calls, so tests can prove the cache works

    # -- what the result record says about the model
    def describe(self) -> dict:
        return {
            "spec": self.spec.spec,
            "fingerprint": self.fingerprint,
            "context_length": self.context_length,
            "truncation": self.truncation,
            "architecture": self.spec.model_name,
            "pretrained": self.spec.pretrained,
        }

    def transform_id(self) -> str:
        return repr(self.preprocess)

    def _autocast(self):
        if self.precision == "fp32":
            return strict_fp32() if torch.device(self.device).type == "cuda" else nullcontext()
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[self.precision]
        return torch.autocast(device_type=torch.device(self.device).type, dtype=dtype)

    @torch.no_grad()
    def encode_images(self, images: torch.Tensor, features: str = "embed") -> torch.Tensor:
        """(N, D) image features: "embed" (the L2-normalised joint embedding) or "pre_proj"."""
        return self.encode_image_features(images, (features,))[features]

    def image_feature_kinds(self, one_pass: bool = False) -> tuple[str, ...]:
        """The image features this model gives: always "embed"; "pre_proj" for open_clip ViT and
        ModifiedResNet image towers. With `one_pass`, only those one forward pass gives together."""
        if not _pre_proj_tower(self.model) or (one_pass and not _standard_encode_image(self.model)):
            return ("embed",)
        return ("embed", "pre_proj")

    @torch.no_grad()
    def encode_image_features(self, images: torch.Tensor, features=("embed",)) -> dict[str, torch.Tensor]:
        """Several image feature kinds of one batch, from one forward pass where the model allows it.

        "pre_proj" is the image feature before the final projection (docs/protocols.md §D.1.1): for a ViT the
        pooled, ln_post'ed token that `proj` would multiply; for a ModifiedResNet the attention-pool output.
        It is fp32 and not normalised. "embed" is the normalised output of `encode_image`.
        """
        unknown = [f for f in features if f not in ("embed", "pre_proj")]
        if unknown:
            raise ConfigError(f"image features {unknown[0]!r}: expected embed or pre_proj")
        self.calls["image_batches"] += 1
        x = images.to(self.device)
        out: dict[str, torch.Tensor] = {}
        with self._autocast():
            if "pre_proj" in features:
                tower = _pre_proj_tower(self.model)
                if tower is None:
                    raise ConfigError(
                        f"pre_proj image features are defined for open_clip VisionTransformer and ModifiedResNet "
                        f"image towers; {self.spec.spec} has {type(getattr(self.model, 'visual', None)).__name__} "
                        f"(use --protocol features=embed)")
                visual = self.model.visual
                if tower == "vit":
                    proj = visual.proj
                    visual.proj = None  # the tower's own forward, stopped before the projection
                    try:
                        pooled = visual(x)
                    finally:
                        visual.proj = proj
                    pooled = pooled[0] if isinstance(pooled, tuple) else pooled
                    embed = pooled @ proj if _standard_encode_image(self.model) else None
                else:
                    pooled = visual(x)
                    embed = pooled if _standard_encode_image(self.model) else None
                out["pre_proj"] = pooled.float().cpu()
                if "embed" in features and embed is not None:
                    out["embed"] = F.normalize(embed.float(), dim=-1).cpu()
            if "embed" in features and "embed" not in out:
                out["embed"] = F.normalize(self.model.encode_image(x).float(), dim=-1).cpu()
        return out

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        self.calls["text_batches"] += 1
        tokens = self.tokenizer(texts).to(self.device)
        with self._autocast():
            feats = self.model.encode_text(tokens)
        return F.normalize(feats.float(), dim=-1).cpu()

    def token_ids(self, texts: list[str]) -> np.ndarray:
        """(N, context length) the token ids the text encoder sees."""
        ids = self.tokenizer(texts)
        return ids.numpy() if hasattr(ids, "numpy") else np.asarray(ids)

    def token_counts(self, texts: list[str]) -> list[int] | None:
        """Token count of each text before truncation, special tokens included."""
        tok = self.tokenizer
        if hasattr(tok, "count_tokens"):  # tokenizers that add tokens of their own (corner tokens)
            return tok.count_tokens(texts)
        if hasattr(tok, "encode") and hasattr(tok, "eot_token_id"):
            return [len(tok.encode(t)) + 2 for t in texts]
        inner = getattr(tok, "tokenizer", None)
        if inner is not None:
            return [len(ids) for ids in inner(texts)["input_ids"]]
        return None  # unknown tokenizer: the counts are unknown, not "nothing truncated"


@contextmanager
def strict_fp32():
    """fp32 means fp32 on CUDA too: no TF32 in cuDNN convolutions (PyTorch's default allows it, which moves a
    ViT's patch embedding off fp32) nor in matrix products; the previous settings are restored afterwards."""
    matmul, cudnn = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(matmul)
        torch.backends.cudnn.allow_tf32 = cudnn


def _pre_proj_tower(model) -> str | None:
    """"vit" or "resnet" when the image tower is one whose pre-projection feature lipeval knows, else None."""
    from open_clip.modified_resnet import ModifiedResNet
    from open_clip.transformer import VisionTransformer

    visual = getattr(model, "visual", None)
    if isinstance(visual, VisionTransformer) and isinstance(getattr(visual, "proj", None), torch.Tensor):
        return "vit"
    if isinstance(visual, ModifiedResNet):
        return "resnet"
    return None


def _standard_encode_image(model) -> bool:
    """True when `encode_image` is open_clip's plain `self.visual(image)`, so the embedding can be derived
    from the same forward pass that gives the pre-projection feature."""
    fn = getattr(type(model), "encode_image", None)
    return getattr(fn, "__module__", "") == "open_clip.model" and getattr(fn, "__qualname__", "") in (
        "CLIP.encode_image", "CustomTextCLIP.encode_image")


def _trainer_marker(spec: ModelSpec) -> dict | None:
    """The trainer's block (text variant, corner tokens) of a local-dir model's open_clip_config.json, or None."""
    if not spec.model_name.startswith("local-dir:"):
        return None
    from lipeval.models.corner_text import read_marker

    return read_marker(Path(spec.model_name[len("local-dir:"):]))


def _did_you_mean(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _load_checkpoint(model, spec: ModelSpec, path: Path, trust: bool) -> None:
    import open_clip

    if not path.is_file():
        raise ConfigError(f"--model {spec.spec}: checkpoint file not found: {path}")
    try:
        open_clip.load_checkpoint(model, str(path), strict=True, weights_only=not trust)
    except pickle.UnpicklingError as e:
        raise ConfigError(
            f"checkpoint {path} needs full unpickling, which can run arbitrary code; it was refused. "
            f"Pass --trust-checkpoint if you trust its source. ({str(e).splitlines()[0]})"
        ) from None
    except RuntimeError as e:
        msg = str(e)
        if "state_dict" in msg or "size mismatch" in msg or "Missing key" in msg or "Unexpected key" in msg:
            lines = [ln.strip() for ln in msg.splitlines() if ln.strip()][:4]
            raise ConfigError(
                f"checkpoint {path} does not fit architecture {spec.model_name}: {' '.join(lines)[:600]}"
            ) from None
        raise ConfigError(f"cannot read checkpoint {path}: {msg[:300]}") from None
    except Exception as e:  # corrupt or truncated file
        raise ConfigError(f"cannot read checkpoint {path}: {type(e).__name__}: {str(e)[:300]}") from None


def load_model(spec_str: str, device: str = "cpu", precision: str = "fp32", seed: int = 0,
               trust_checkpoint: bool = False) -> ClipAdapter:
    """Build the adapter for a model SPEC (see lipeval.models.spec)."""
    import open_clip

    register_configs()
    spec = parse_spec(spec_str)
    if precision not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"--precision {precision!r}: expected fp32, bf16 or fp16")
    torch.manual_seed(seed)  # random-init models are reproducible and share a fingerprint across runs
    ckpt = Path(spec.pretrained) if spec.pretrained and Path(spec.pretrained).suffix in (
        ".safetensors", ".pt", ".pth", ".bin") else None
    tag = None if ckpt is not None else spec.pretrained
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.model_name, pretrained=tag, device="cpu", weights_only=not trust_checkpoint,
            load_weights=ckpt is None,
        )
    except pickle.UnpicklingError as e:
        raise ConfigError(
            f"--model {spec.spec}: weights need full unpickling and were refused; pass --trust-checkpoint "
            f"if you trust their source ({str(e).splitlines()[0]})"
        ) from None
    except (RuntimeError, ValueError, FileNotFoundError) as e:
        msg = str(e)
        if "not found in built-ins" in msg:
            arch = spec.model_name.replace("/", "-")
            raise ConfigError(
                f"--model {spec.spec}: unknown architecture {arch!r}{_did_you_mean(arch, open_clip.list_models())}"
            ) from None
        if "not a known tag" in msg:
            tags = open_clip.list_pretrained_tags_by_model(spec.model_name)
            raise ConfigError(
                f"--model {spec.spec}: {tag!r} is neither a pretrained tag of {spec.model_name} "
                f"(known: {', '.join(tags) or 'none'}) nor an existing checkpoint file"
            ) from None
        raise ConfigError(f"--model {spec.spec}: {msg[:500]}") from None
    if ckpt is not None:
        _load_checkpoint(model, spec, ckpt, trust_checkpoint)
    config = open_clip.get_model_config(spec.model_name) or {}
    tokenizer = open_clip.get_tokenizer(spec.model_name)
    trained = _trainer_marker(spec)
    if trained is not None:  # written by lipeval's trainer: CLIP, or corner-token (LoTLIP) text tower
        from lipeval.models import corner_text

        model, tokenizer = corner_text.apply_marker(model, tokenizer, trained)
        config = {**config, corner_text.MARKER_KEY: trained}  # the variant is part of the fingerprint
    model = model.to(device)
    return ClipAdapter(model, tokenizer, preprocess, spec, config, device, precision, seed)
