"""Atomic file writes: a reader sees the old file or the whole new one, never a half-written one.

The data goes to a temporary file in the target's folder (so the rename stays on one file system),
is flushed to disk, and is renamed over the target; on any failure, Ctrl-C included, the temporary
file is removed. Result records, cache entries, model cards and trainer files are written this way.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, creating its parent folders."""
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
    """Write `text` to `path` as UTF-8, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
