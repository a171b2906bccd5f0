"""Shared fixtures: offline hub, the tiny synthetic suite (generated once per session), a model folder writer,
and the one stand-in for a model that every test of a kind uses (`FakeModel`, behind the real `Embedder`)."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from lipeval.datasets.records import ImageSet


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """A data root holding the tiny synthetic suite under `synthetic/`."""
    from lipeval.synthetic import generate

    root = tmp_path_factory.mktemp("data")
    generate(root, seed=0, scale="tiny")
    return root


def _save_local_dir(folder, adapter, fmt="safetensors"):
    """Write a loaded adapter as an open_clip local-dir folder; returns the weights file."""
    import json

    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": adapter.config}))
    sd = {k: v.contiguous() for k, v in adapter.model.state_dict().items()}
    if fmt == "safetensors":
        path = folder / "open_clip_model.safetensors"
        save_file(sd, str(path))
    else:
        path = folder / "open_clip_pytorch_model.bin"
        torch.save(sd, path)
    return path


@pytest.fixture
def save_local_dir():
    """`save_local_dir(folder, adapter, fmt="safetensors")`: the adapter's model as a local-dir folder."""
    return _save_local_dir


# ---------------------------------------------------------------------------------------------------------
# The one fake model: implements lipeval.models.contract.ModelAdapter, so kinds see it through the real
# Embedder (cache, token statistics, token identity) exactly as they see a real model.
# ---------------------------------------------------------------------------------------------------------

def _hash_vector(key: str, dim: int):
    import zlib

    import numpy as np
    import torch

    v = np.random.default_rng(zlib.crc32(key.encode())).normal(size=dim)
    return torch.tensor(v / np.linalg.norm(v), dtype=torch.float32)


class FakeImages(ImageSet):
    """Images that are only ids: `load(i)` returns the id, and FakeModel's transform turns it into that
    image's vector. `key` names the set in its fingerprint."""

    def __init__(self, ids, key: str = "fake"):
        super().__init__(ids)
        self.key = key

    def load(self, i: int):
        return self.ids[i]

    def compute_fingerprint(self) -> str:
        return f"{self.key}:{len(self)}"

    def subset(self, n: int) -> "FakeImages":
        return FakeImages(self.ids[:n], f"{self.key}[:{n}]")


class FakeModel:
    """A transparent model (lipeval.models.contract.ModelAdapter).

    images: an image's features are `images[id]` (a dict or a function of the id; default: a seeded unit
      vector per id), returned as given for both "embed" and "pre_proj" (tests choose exact dot products).
      Images read from real files (PIL) get a seeded unit vector per pixel content.
    texts: `texts[string]` (a dict or a function of the string); default: a word bag, the normalised sum of a
      seeded vector per lower-cased word, over the first `context_length - 2` words (so truncation is real).
    tokens: `tokenize(text)` words (default: whitespace split, "." as a space) + 2 special tokens.
    Counters: `seen` (every text encoded, in order), `text_batches`, `image_batches`.
    """

    precision, device, truncation = "fp32", "cpu", "keep_first_eot_last"

    def __init__(self, images=None, texts=None, context_length: int = 77, dim: int = 16, tokenize=None,
                 fingerprint: str = "fake-model"):
        self.images, self.texts, self.dim = images, texts, dim
        self.context_length, self.fingerprint = context_length, fingerprint
        self.tokenize = tokenize or (lambda t: t.lower().replace(".", " ").split())
        self.seen: list[str] = []
        self.text_batches = self.image_batches = 0
        self.vocab: dict[str, int] = {}

    def describe(self) -> dict:
        return {"spec": "fake", "fingerprint": self.fingerprint, "context_length": self.context_length,
                "truncation": self.truncation, "architecture": "fake", "pretrained": None}

    def transform_id(self) -> str:
        return "fake-transform"

    def _lookup(self, table, key, default):
        import torch

        if table is None:
            return default(key)
        value = table(key) if callable(table) else table[key]
        return torch.as_tensor(value, dtype=torch.float32)

    def preprocess(self, item):
        if isinstance(item, str):
            return self._lookup(self.images, item, lambda k: _hash_vector("image:" + k, self.dim))
        import hashlib

        return _hash_vector("pixels:" + hashlib.sha256(item.tobytes()).hexdigest(), self.dim)  # a PIL image

    def image_feature_kinds(self, one_pass: bool = False) -> tuple[str, ...]:
        return ("embed", "pre_proj")

    def encode_image_features(self, images, features=("embed",)):
        self.image_batches += 1
        return {f: images.float().clone() for f in features}

    def word(self, w: str):
        return _hash_vector("word:" + w, self.dim)

    def _word_bag(self, text: str):
        import torch
        import torch.nn.functional as F

        words = self.tokenize(text)[: self.context_length - 2]
        return F.normalize(sum((self.word(w) for w in words), torch.zeros(self.dim)), dim=0)

    def encode_texts(self, texts: list[str]):
        import torch

        self.text_batches += 1
        self.seen.extend(texts)
        return torch.stack([self._lookup(self.texts, t, self._word_bag) for t in texts])

    def token_ids(self, texts: list[str]):
        import numpy as np

        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for i, t in enumerate(texts):
            ids = [self.vocab.setdefault(w, len(self.vocab) + 1) for w in self.tokenize(t)][: self.context_length]
            out[i, :len(ids)] = ids
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(self.tokenize(t)) + 2 for t in texts]


def _fake_embedder(model=None, cache_dir=None, batch_size: int = 256, **model_kw):
    """The real Embedder over a FakeModel (built from `model_kw` when `model` is None)."""
    from lipeval.cache import EmbeddingCache
    from lipeval.embed import Embedder

    return Embedder(model if model is not None else FakeModel(**model_kw), EmbeddingCache(cache_dir), batch_size)


@pytest.fixture
def fake():
    """The fake model kit: `fake.Model`, `fake.Images`, `fake.embedder(model=None, cache_dir=None, **model_kw)`."""
    from types import SimpleNamespace

    return SimpleNamespace(Model=FakeModel, Images=FakeImages, embedder=_fake_embedder)
