"""The `clip_benchmark` reader: zero-shot classification sets read from a local root, as clip-benchmark reads them.

It checks the files a set needs (`cb_layouts.LAYOUTS`) before anything is built, so a missing one is a
`DataMissing` naming the expected path and layout, never a download; then hands the set to its reader:
clip-benchmark's builder (`cb_builder`, with the per-set quirks of `cb_set_quirks`) or lipeval's own
(`cb_resisc45`). Class names and prompt templates are clip-benchmark's (`cb_text`).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from lipeval.datasets import cb_set_quirks
from lipeval.datasets.cb_builder import read_with_builder
from lipeval.datasets.cb_layouts import spec_for
from lipeval.datasets.cb_resisc45 import read_resisc45
from lipeval.datasets.records import ClassificationData
from lipeval.errors import DataMissing


def _check_layout(root: Path, dataset: str, split: str, spec: dict) -> None:
    """Raise DataMissing naming the first absent path; never lets the builder see a missing file."""
    where = f"{dataset} ({split}) expects under {root}: {spec['layout']}"
    if not root.is_dir():
        raise DataMissing(f"expected folder {root} ({where})")
    for entry in spec["splits"][split]:
        options = [o.strip() for o in entry.split("|")]
        found = False
        for opt in options:
            p = root / opt.rstrip("/")
            if (p.is_dir() if opt.endswith("/") else p.is_file()):
                found = True
                break
        if not found:
            shown = " or ".join(str(root / o.rstrip("/")) + ("/" if o.endswith("/") else "") for o in options)
            kind = "folder" if all(o.endswith("/") for o in options) else "file"
            raise DataMissing(f"expected {kind} {shown} ({where})")


def _check_needs(root: Path, dataset: str, spec: dict) -> None:
    """DataMissing when a Python package the reading needs (the table's `needs`) is not installed."""
    for pkg in spec.get("needs", []):
        if importlib.util.find_spec(pkg) is None:
            raise DataMissing(
                f"{dataset}: the files under {root} are present, but reading them needs the Python package "
                f"{pkg!r}, which is not installed (pip install {pkg})"
            )


def read_clip_benchmark(
    root: Path,
    dataset: str,
    split: str = "test",
    language: str = "en",
    custom_classname_file: str | None = None,
    custom_template_file: str | None = None,
) -> ClassificationData:
    """Read the clip-benchmark classification set `dataset` from the local folder `root`.

    `custom_template_file` may name clip-benchmark's `cupl_prompts.json` (per-class prompts)
    or any JSON of the same shape; it is resolved as the builder resolves it.
    """
    spec = spec_for(dataset, split)
    root = Path(root).expanduser()
    _check_layout(root, dataset, split, spec)
    check = cb_set_quirks.CHECKS.get(dataset)
    if check is not None:
        check(root, spec)
    _check_needs(root, dataset, spec)
    root = root.resolve()
    if dataset == "resisc45":  # the one set the table marks reader "lipeval"
        return read_resisc45(root, split, spec, language, custom_classname_file, custom_template_file)
    return read_with_builder(root, dataset, split, spec, language, custom_classname_file, custom_template_file)
