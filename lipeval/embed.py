"""Embed image sets and text lists with a model adapter, through the embedding cache.

`Embedder` is what kinds use of a model (`lipeval.kinds.contract.Embedder`), built on the model adapter
contract (`lipeval.models.contract.ModelAdapter`). It is the one place where images are decoded and
batched: a map-style DataLoader over the image set, with workers when asked. A bad image raises DataError
naming the file in the main process, not a worker traceback.
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from lipeval.cache import EmbeddingCache, cache_key
from lipeval.datasets.records import ImageSet, strings_digest
from lipeval.errors import DataError
from lipeval.models.contract import ModelAdapter


def _progress(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="img" if "image" in desc else "txt", leave=False,
                disable=not sys.stderr.isatty(), dynamic_ncols=True)


class _MapImages(Dataset):
    def __init__(self, images: ImageSet, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        try:
            return self.transform(self.images.load(i))
        except DataError as e:
            return str(e)


def _stack(items: list) -> torch.Tensor:
    for it in items:
        if isinstance(it, str):
            raise DataError(it)
    return torch.stack(items)


def texts_digest(texts: list[str]) -> str:
    """The cache identity of a list of strings."""
    return strings_digest(texts, 32)


class Embedder:
    """Cached image and text embeddings, token statistics and token identity for one model adapter.
    `seconds` accumulates the time spent embedding (images, texts) for the record's timing."""

    def __init__(self, adapter: ModelAdapter, cache: EmbeddingCache, batch_size: int = 256, workers: int = 0):
        self.adapter = adapter
        self.cache = cache
        self.batch_size = batch_size
        self.workers = workers
        self.seconds: dict[str, float] = defaultdict(float)

    @property
    def device(self) -> str:
        return self.adapter.device

    def _key(self, kind: str, data_fingerprint: str, preprocessing: str) -> str:
        a = self.adapter
        return cache_key(kind=kind, model=a.fingerprint, data=data_fingerprint, preprocessing=preprocessing,
                         precision=a.precision, context_length=a.context_length, truncation=a.truncation)

    def _image_key(self, images: ImageSet, features: str) -> str:
        # "embed" keeps the plain "image" kind, so caches written before feature kinds existed stay valid
        kind = "image" if features == "embed" else f"image:{features}"
        return self._key(kind, images.fingerprint(), self.adapter.transform_id())

    def images(self, images: ImageSet, features: str = "embed") -> torch.Tensor:
        """(N, D) features of every image, in order: "embed" = normalised embeddings (the default), or
        "pre_proj" = the image feature before the final projection (linear probe).

        On a cache miss every feature kind the adapter gives in the same forward pass is computed and
        cached, so zero-shot and linear probe on the same images embed them once.
        """
        key = self._image_key(images, features)
        cached = self.cache.get(key)
        if cached is not None and len(cached) == len(images):
            return torch.from_numpy(cached)
        kinds = (features,) + tuple(k for k in self.adapter.image_feature_kinds(one_pass=True) if k != features)
        t0 = time.perf_counter()
        loader = DataLoader(_MapImages(images, self.adapter.preprocess), batch_size=self.batch_size,
                            num_workers=self.workers, collate_fn=list, persistent_workers=False)
        out: dict[str, list[torch.Tensor]] = {k: [] for k in kinds}
        with _progress(len(images), "embedding images") as bar:
            for batch in loader:
                for k, v in self.adapter.encode_image_features(_stack(batch), kinds).items():
                    out[k].append(v)
                bar.update(len(batch))
        result = {k: torch.cat(v) if v else torch.empty(0, 0) for k, v in out.items()}
        if len(result[features]) != len(images):
            raise DataError(f"expected {len(images)} images, embedded {len(result[features])}")
        for k, emb in result.items():
            self.cache.put(key if k == features else self._image_key(images, k), emb.numpy())
        self.seconds["embed_images"] += time.perf_counter() - t0
        return result[features]

    def texts(self, texts: list[str], preprocessing: str = "none") -> torch.Tensor:
        """(N, D) normalised embeddings of the given strings, in order.

        `preprocessing` names whatever the caller did to the strings (it is part of the key
        and of the record; the strings themselves are hashed too).
        """
        key = self._key("text", texts_digest(texts), preprocessing)
        cached = self.cache.get(key)
        if cached is not None and len(cached) == len(texts):
            return torch.from_numpy(cached)
        t0 = time.perf_counter()
        out = []
        with _progress(len(texts), "embedding texts") as bar:
            for s in range(0, len(texts), self.batch_size):
                chunk = texts[s:s + self.batch_size]
                out.append(self.adapter.encode_texts(chunk))
                bar.update(len(chunk))
        emb = torch.cat(out) if out else torch.empty(0, 0)
        self.cache.put(key, emb.numpy())
        self.seconds["embed_texts"] += time.perf_counter() - t0
        return emb

    def _token_counts(self, texts: list[str]) -> np.ndarray | None:
        """Token count of each text before truncation (cached; None when the tokenizer cannot say)."""
        key = self._key("token_counts", texts_digest(texts), "none")
        counts = self.cache.get(key)
        if counts is None or len(counts) != len(texts):
            raw = self.adapter.token_counts(texts) if texts else []
            counts = np.full(len(texts), -1, dtype=np.int64) if raw is None else np.asarray(raw, dtype=np.int64)
            self.cache.put(key, counts)
        return None if (counts < 0).any() else counts

    def text_stats(self, texts: list[str]) -> dict:
        """How much text the model's context length throws away (None where the tokenizer cannot say), the
        context length and the truncation rule."""
        ctx, rule = self.adapter.context_length, self.adapter.truncation
        counts = self._token_counts(texts)
        if counts is None:
            return {"n_texts": len(texts), "n_truncated": None, "mean_tokens": None, "max_tokens": None,
                    "context_length": ctx, "truncation": rule}
        return {
            "n_texts": int(len(counts)),
            "n_truncated": int((counts > ctx).sum()),
            "mean_tokens": float(counts.mean()) if len(counts) else 0.0,
            "max_tokens": int(counts.max()) if len(counts) else 0,
            "context_length": ctx,
            "truncation": rule,
        }

    def text_identity(self, texts: list[str]) -> np.ndarray:
        """For each text, the index of the first text the model cannot tell from it: the same token ids
        after truncation (so "a man, riding" and "a man , riding" are one text to CLIP's tokenizer). Cached."""
        key = self._key("text_identity", texts_digest(texts), "none")
        first = self.cache.get(key)
        if first is not None and len(first) == len(texts):
            return first
        seen: dict[bytes, int] = {}
        first = np.empty(len(texts), dtype=np.int64)
        for s in range(0, len(texts), 4096):
            ids = np.ascontiguousarray(self.adapter.token_ids(texts[s:s + 4096]))
            for i, row in enumerate(ids, s):
                first[i] = seen.setdefault(row.tobytes(), i)
        self.cache.put(key, first)
        return first
