"""On-disk embedding cache and atomic file writes.

An entry is a float32 array keyed by a hash of everything that changes it: model
fingerprint, dataset (or text list) fingerprint, image transform or text preprocessing,
context length/truncation and precision. Writes go to a temporary file in the same folder
and are renamed into place, so a reader never sees a half-written entry; an unreadable
entry (disk trouble) is treated as a miss and recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def cache_key(**parts) -> str:
    """A stable hash of the named parts (any JSON-serialisable values)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


class EmbeddingCache:
    """Arrays on disk under `root/<key[:2]>/<key>.npy`; `root=None` disables caching."""

    def __init__(self, root: Path | str | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.npy"

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
        np.save(buf, np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
        atomic_write_bytes(self._path(key), buf.getvalue())
