"""Class names and prompt templates from clip-benchmark's JSON files, for the sets lipeval reads itself.

A key missing from the template file falls back to the `imagenet1k` templates, as clip-benchmark's builder
does. (The linear probe never uses prompts; the readers still return them so the same sets can be scored
zero-shot.)
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from lipeval.errors import ConfigError


@lru_cache(maxsize=None)
def _load(filename: str) -> dict:
    import clip_benchmark.datasets as cbd

    path = Path(cbd.__file__).parent / filename
    if not path.is_file():
        raise ConfigError(f"clip-benchmark file {filename!r} not found in {path.parent}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def templates_for(key: str, language: str = "en") -> list[str]:
    """clip-benchmark's prompt templates for `key`, else its imagenet1k templates."""
    table = _load(f"{language}_zeroshot_classification_templates.json")
    return list(table.get(key) or table["imagenet1k"])


def classnames_for(key: str, language: str = "en") -> list[str] | None:
    """clip-benchmark's curated class names for `key`, or None when it has none."""
    names = _load(f"{language}_classnames.json").get(key)
    return list(names) if names is not None else None
