"""Model cards: what the embedding cache needs to know about a model, so a fully cached run loads none.

The cache keys of a model's embeddings need its weight fingerprint, context length, truncation rule and
image transform, and its records need its `model` block; all of them come from loading the model (and, for
the fingerprint, hashing every weight). A card keeps them in the cache folder under a key made of what pins
the weights without reading them: the SPEC as typed, the seed, the lipeval, open_clip and torch versions and
the path, size and modification time of every local file the model is built from (the local-dir folder's
files, a checkpoint file, or the architecture config that ships with lipeval for a random-init model).

A run that finds its card gets a `DeferredAdapter`: the card's identity now, the real model only when
something is not in the cache. Weights that live elsewhere (pretrained tags, hf-hub) get no card; those
models are loaded as before.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lipeval import __version__
from lipeval.cache import EmbeddingCache, cache_key
from lipeval.errors import ConfigError
from lipeval.models import CONFIG_DIR
from lipeval.models.contract import ModelAdapter
from lipeval.models.spec import parse_spec

CARD_FIELDS = ("fingerprint", "context_length", "truncation", "transform_id", "model")


def package_version(name: str) -> str | None:
    """An installed package's version from its metadata (no import)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _stat(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def _local_files(spec_str: str) -> list[Path] | None:
    """Every local file the weights and config come from, or None when some are not local files."""
    spec = parse_spec(spec_str)
    name = spec.model_name
    if name.startswith("hf-hub:"):
        return None
    if name.startswith("local-dir:"):
        folder = Path(name[len("local-dir:"):])
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    else:
        files = sorted(CONFIG_DIR.glob(f"{name}.json"))  # a tiny architecture of lipeval's own
    if spec.pretrained:
        ckpt = spec.checkpoint_file
        if ckpt is None or not ckpt.is_file():
            return None  # a pretrained tag: its file lives in a download cache
        files.append(ckpt)
    return files


def card_key(spec_str: str, seed: int) -> str | None:
    """The key of the model's card, or None when the model cannot have one."""
    try:
        files = _local_files(spec_str)
    except (ConfigError, OSError):
        return None  # loading will say what is wrong with the SPEC
    if files is None:
        return None
    return cache_key(kind="model_card", spec=spec_str, seed=seed, lipeval=__version__,
                     open_clip=package_version("open_clip_torch"), torch=package_version("torch"),
                     files=[_stat(p) for p in files])


def card_of(adapter: ModelAdapter) -> dict:
    """The card of a loaded adapter, as it reads back from JSON."""
    return json.loads(json.dumps({
        "fingerprint": adapter.fingerprint, "context_length": adapter.context_length,
        "truncation": adapter.truncation, "transform_id": adapter.transform_id(), "model": adapter.describe()}))


class DeferredAdapter:
    """A model adapter (`lipeval.models.contract.ModelAdapter`) whose identity comes from its card; the model
    is loaded on first real use.

    Everything the cache keys and the records need is answered from the card; the encoders, the tokenizer and
    the image transform load the model once and are served by it.
    """

    def __init__(self, card: dict, load: Callable[[], ModelAdapter], device: str, precision: str,
                 forget: Callable[[], None] | None = None):
        self.card = card
        self.device, self.precision = device, precision
        self.fingerprint: str = card["fingerprint"]
        self.context_length: int = card["context_length"]
        self.truncation: str = card["truncation"]
        self._load, self._forget = load, forget
        self.loaded: ModelAdapter | None = None

    def describe(self) -> dict:
        return dict(self.card["model"])

    def transform_id(self) -> str:
        return self.card["transform_id"]

    def model(self) -> ModelAdapter:
        """The loaded adapter (loaded now, the first time); an error when it no longer matches its card."""
        if self.loaded is None:
            adapter = self._load()
            if card_of(adapter) != self.card:
                if self._forget is not None:
                    self._forget()
                raise ConfigError(
                    f"the cached model card of {self.card['model'].get('spec')} no longer matches the model "
                    f"(fingerprint {self.fingerprint} -> {adapter.fingerprint}); it was removed: run again")
            self.loaded = adapter
        return self.loaded

    @property
    def preprocess(self):
        return self.model().preprocess

    def image_feature_kinds(self, one_pass: bool = False) -> tuple[str, ...]:
        return self.model().image_feature_kinds(one_pass)

    def encode_image_features(self, images, features=("embed",)):
        return self.model().encode_image_features(images, features)

    def encode_texts(self, texts: list[str]):
        return self.model().encode_texts(texts)

    def token_ids(self, texts: list[str]):
        return self.model().token_ids(texts)

    def token_counts(self, texts: list[str]) -> list[int] | None:
        return self.model().token_counts(texts)


def adapter_for(spec_str: str, seed: int, device: str, precision: str, cache: EmbeddingCache, load):
    """The model's adapter: deferred when its card is in the cache, else loaded now (and its card kept)."""
    key = card_key(spec_str, seed) if cache.root is not None else None
    card = cache.get_json(key) if key else None
    if card is not None and all(f in card for f in CARD_FIELDS):
        return DeferredAdapter(card, load, device, precision, forget=lambda: cache.remove_json(key))
    adapter = load()
    if key:
        cache.put_json(key, card_of(adapter))
    return adapter
