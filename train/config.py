"""The trainer's one config format: YAML over these defaults, plus `key.sub=value` overrides.

Sections: model, data, loss, optim, schedule, run, log. Unknown keys are errors (with a
suggestion), so a typo never silently trains the wrong thing. The resolved config is saved
with the run as `config.yaml`.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path

import yaml

from lipeval.errors import ConfigError

DEFAULTS: dict = {
    "name": "run",
    "seed": 0,
    "model": {
        "arch": "lipeval-tiny-rn",   # an open_clip architecture name (lipeval's tiny configs are registered)
        "context_length": None,      # None: the architecture's own
        "corner_tokens": 0,          # K > 0: LoTLIP corner tokens in the text tower
        "init": None,                # a run folder or checkpoint whose weights start the run
        "image_tower": None,         # a run folder or checkpoint whose image tower is loaded (LiT)
        "lock_image": False,         # LiT: freeze the image tower (and its BatchNorm statistics)
    },
    "data": {
        "source": "synthetic",       # synthetic | manifest | webdataset
        "root": None,                # data root (synthetic: holds synthetic/; --data sets it)
        "synthetic_scale": "default",  # scale generated when the synthetic suite is absent
        "manifest": None,            # JSONL or CSV file (source: manifest)
        "image_root": None,          # image paths in the manifest are relative to this (default: its folder)
        "image_key": "image",
        "shards": None,              # webdataset shard pattern, e.g. data/{000000..000099}.tar
        "texts": [{"field": "short_captions"}],  # one entry per text view, see train/data.py
        "cache_images": True,        # keep decoded, transformed images in memory (manifest sources)
        "augment": False,            # open_clip's training transform (no flips) instead of the eval one
        "workers": 0,
    },
    "loss": {
        "local_loss": True,          # open_clip's local loss with features gathered with gradients
        "gather_with_grad": True,
        "max_logit_scale": 100.0,
    },
    "optim": {
        "lr": 1.0e-3,
        "weight_decay": 0.1,         # on weight matrices only (not gains, biases, embeddings, logit scale)
        "betas": [0.9, 0.98],
        "eps": 1.0e-6,
        "grad_clip": 1.0,            # max global gradient norm; null: off
    },
    "schedule": {
        "steps": 250,
        "warmup": 25,                # linear warm-up steps, then cosine to zero
        "batch_size": 128,           # global batch (split evenly over the ranks)
    },
    "run": {
        "device": "auto",            # auto | cpu | cuda
        "precision": "auto",         # auto: bf16 autocast + TF32 on CUDA, fp32 on CPU | fp32 | bf16
        "sync_bn": False,            # SyncBatchNorm across ranks (ResNet towers)
        "threads": None,             # CPU threads for torch (None: torch's default)
    },
    "log": {
        "every": 10,                 # progress refresh; off a terminal, a log line (every step is in metrics.jsonl)
        "checkpoint_every": 100,
        "keep_checkpoints": 1,       # step folders kept under checkpoints/ (the run folder always has the latest)
        "progress": True,
    },
}


def _merge(base: dict, update: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if key not in base:
            close = difflib.get_close_matches(str(key), list(base), n=2)
            hint = f"; did you mean {', '.join(close)}?" if close else f" (known: {', '.join(base)})"
            raise ConfigError(f"config: unknown key {where}{key}{hint}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config: {where}{key} must be a mapping")
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def parse_override(item: str) -> tuple[list[str], object]:
    """'optim.lr=3e-4' -> (['optim', 'lr'], 0.0003); values are read as YAML scalars or lists."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r}: expected KEY=VALUE, e.g. schedule.steps=100")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):  # YAML 1.1 reads "3e-4" as a string
        try:
            value = float(value)
        except ValueError:
            pass
    return key.strip().split("."), value


def _nest(path: list[str], value) -> dict:
    d = value
    for part in reversed(path):
        d = {part: d}
    return d


def load_config(path: Path | str | None, overrides: list[str] = ()) -> dict:
    """Defaults <- the YAML file <- overrides, validated."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"--config {path}: no such file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"--config {path}: not valid YAML: {e}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"--config {path}: expected a mapping of sections")
        cfg = _merge(cfg, raw, "")
    for item in overrides:
        keys, value = parse_override(item)
        cfg = _merge(cfg, _nest(keys, value), "")
    validate(cfg)
    return cfg


def validate(cfg: dict) -> None:
    m, d, s = cfg["model"], cfg["data"], cfg["schedule"]
    if not isinstance(m["corner_tokens"], int) or m["corner_tokens"] < 0:
        raise ConfigError(f"config: model.corner_tokens must be a non-negative integer, got {m['corner_tokens']!r}")
    if m["lock_image"] and not (m["init"] or m["image_tower"]):
        raise ConfigError("config: model.lock_image (LiT) needs model.image_tower (or model.init), the checkpoint "
                          "that holds the trained image tower")
    if d["source"] not in ("synthetic", "manifest", "webdataset"):
        raise ConfigError(f"config: data.source {d['source']!r}: expected synthetic, manifest or webdataset")
    if d["source"] == "manifest" and not d["manifest"]:
        raise ConfigError("config: data.source manifest needs data.manifest (a JSONL or CSV file)")
    if d["source"] == "webdataset" and not d["shards"]:
        raise ConfigError("config: data.source webdataset needs data.shards (a shard pattern)")
    if not isinstance(d["texts"], list) or not d["texts"]:
        raise ConfigError("config: data.texts must be a non-empty list of text views")
    for i, view in enumerate(d["texts"]):
        if not isinstance(view, dict) or "field" not in view:
            raise ConfigError(f"config: data.texts[{i}] needs a 'field'")
        unknown = set(view) - {"field", "sentences", "features"}
        if unknown:
            raise ConfigError(f"config: data.texts[{i}]: unknown key(s) {sorted(unknown)} "
                              "(known: field, sentences, features)")
        if view.get("features", "first") not in ("first", "all"):
            raise ConfigError(f"config: data.texts[{i}].features must be 'first' or 'all'")
        if view.get("features") == "all" and not m["corner_tokens"]:
            raise ConfigError(f"config: data.texts[{i}].features 'all' needs model.corner_tokens > 0")
        n = view.get("sentences")
        if n is not None and (not isinstance(n, int) or n < 1):
            raise ConfigError(f"config: data.texts[{i}].sentences must be a positive integer or null")
    for key in ("steps", "batch_size"):
        if not isinstance(s[key], int) or s[key] < 1:
            raise ConfigError(f"config: schedule.{key} must be a positive integer, got {s[key]!r}")
    if not isinstance(s["warmup"], int) or not 0 <= s["warmup"] < s["steps"]:
        raise ConfigError(f"config: schedule.warmup must be an integer in [0, steps), got {s['warmup']!r}")
    for key in ("lr", "weight_decay", "eps"):
        try:
            cfg["optim"][key] = float(cfg["optim"][key])
        except (TypeError, ValueError):
            raise ConfigError(f"config: optim.{key} must be a number, got {cfg['optim'][key]!r}") from None
    if cfg["run"]["precision"] not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"config: run.precision {cfg['run']['precision']!r}: expected auto, fp32 or bf16")
    if cfg["log"]["checkpoint_every"] < 1:
        raise ConfigError("config: log.checkpoint_every must be >= 1")


def dump_config(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False)
