"""On-disk embedding cache.

An entry is an array (float32 embeddings; integer token statistics) keyed by a hash of
everything that changes it: model fingerprint, dataset (or text list) fingerprint, image
transform or text preprocessing, context length/truncation and precision. Model cards
(`lipeval.models.card`) are small JSON entries beside them. Writes go to a temporary file in
the same folder and are renamed into place, so a reader never sees a half-written entry; an
unreadable entry (disk trouble) is treated as a miss and recomputed.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from lipeval.atomic import atomic_write_bytes, atomic_write_text


def cache_key(**parts) -> str:
    """A stable hash of the named parts (any JSON-serialisable values)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


class EmbeddingCache:
    """Arrays on disk under `root/<key[:2]>/<key>.npy`, JSON entries as `<key>.json`; `root=None` disables
    caching."""

    def __init__(self, root: Path | str | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.misses = 0

    def _path(self, key: str, suffix: str = ".npy") -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str) -> np.ndarray | None:
        if self.root is None:
            return None
        path = self._path(key)
        if path.is_file():
            try:
                arr = np.load(path, allow_pickle=False)
                self.hits += 1
                return arr
            except (OSError, ValueError):
                pass  # unreadable entry: recompute and overwrite
        self.misses += 1
        return None

    def put(self, key: str, arr: np.ndarray) -> None:
        if self.root is None:
            return
        import io

        buf = io.BytesIO()
        dtype = arr.dtype if arr.dtype.kind in "iub" else np.float32
        np.save(buf, np.ascontiguousarray(arr, dtype=dtype), allow_pickle=False)
        atomic_write_bytes(self._path(key), buf.getvalue())

    def get_json(self, key: str):
        if self.root is None:
            return None
        try:
            return json.loads(self._path(key, ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent or unreadable: a miss

    def put_json(self, key: str, value) -> None:
        if self.root is not None:
            atomic_write_text(self._path(key, ".json"), json.dumps(value))

    def remove_json(self, key: str) -> None:
        if self.root is not None:
            self._path(key, ".json").unlink(missing_ok=True)
