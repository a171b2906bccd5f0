"""Class-folder image sets for zero-shot classification (and the linear probe's train split).

Layout (torchvision ImageFolder plus two text files):

    root/
        train/<class folder>/<images>      (optional)
        test/<class folder>/<images>
        classnames.txt      one human-readable name per line, in sorted class-folder order
        templates.txt       one prompt template per line, each with the `{c}` placeholder
        cupl_prompts.json   optional, {class name: [prompt, ...]}; used only when templates.txt is absent

Class folders are sorted by name (as torchvision's ImageFolder does) and label = position in that
order. Images are found recursively under each class folder, extensions jpg/jpeg/png/webp/bmp
(any case; `image_files.IMAGE_EXTENSIONS`); hidden files and other extensions are ignored. Files
are listed in sorted order of their path inside the class folder. Blank lines in the text files
are ignored.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lipeval.datasets.files import read_json
from lipeval.datasets.image_files import is_image_file, shown_extensions
from lipeval.datasets.records import ClassificationData, FileImages, require_dir, require_file
from lipeval.errors import DataError, DataMissing

LAYOUT = "<root>/{test,train}/<class>/<images> + classnames.txt + templates.txt (or cupl_prompts.json)"


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines of a UTF-8 text file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e})") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def check_templates(lines: list[tuple[int, str]], path: Path) -> list[str]:
    """Validate prompt templates: each has `{c}` and formats with `c=` alone."""
    if not lines:
        raise DataError(f"{path}: no prompt templates (expected one template per line, each containing {{c}})")
    out = []
    for n, t in lines:
        if "{c}" not in t:
            raise DataError(f"{path}: line {n}: template {t!r} has no {{c}} placeholder for the class name")
        try:
            t.format(c="x")
        except (KeyError, IndexError, ValueError) as e:
            raise DataError(
                f"{path}: line {n}: template {t!r} cannot be filled with str.format(c=...) ({e!r}); "
                "write literal braces as {{ and }}"
            ) from None
        out.append(t)
    return out


def read_prompt_dict(path: Path, classnames: list[str]) -> dict[str, list[str]]:
    """A CuPL-style JSON {class name: [prompt, ...]} covering every class name."""
    data = read_json(path, "a JSON object {class name: [prompt, ...]}", top=dict)
    for k, v in data.items():
        if not isinstance(v, list) or not v or not all(isinstance(p, str) and p.strip() for p in v):
            raise DataError(f"{path}: prompts for class {k!r} must be a non-empty list of non-empty strings")
    missing = [c for c in classnames if c not in data]
    if missing:
        raise DataError(
            f"{path}: no prompts for {len(missing)} class name(s) from classnames.txt, e.g. {missing[:3]}"
        )
    return {c: list(data[c]) for c in dict.fromkeys(classnames)}


def _images_under(cdir: Path) -> list[str]:
    """Sorted relative paths of the image files under a class folder (hidden entries skipped)."""
    out = []
    for p in cdir.rglob("*"):
        rel = p.relative_to(cdir)
        if is_image_file(p) and not any(s.startswith(".") for s in rel.parts) and p.is_file():
            out.append(rel.as_posix())
    return sorted(out)


def read_image_folder(root: Path, split: str = "test") -> ClassificationData:
    """Read `root/<split>/<class>/<images>` with classnames.txt and templates.txt (or cupl_prompts.json).

    Errors: missing split folder, classnames.txt, or both prompt files -> DataMissing; class
    count != folder count, a template without `{c}`, an empty class folder, bad prompts JSON ->
    DataError. Image ids are paths relative to `root` (`test/<class>/<file>`).
    """
    root = Path(root)
    split_dir = require_dir(root / split, LAYOUT)
    names_path = require_file(root / "classnames.txt", LAYOUT)

    folders = sorted(e.name for e in split_dir.iterdir() if e.is_dir() and not e.name.startswith("."))
    if not folders:
        raise DataError(f"{split_dir}: no class folders (expected {LAYOUT})")
    classnames = [t for _, t in read_lines(names_path)]
    if len(classnames) != len(folders):
        raise DataError(
            f"{names_path} lists {len(classnames)} class names but {split_dir} has {len(folders)} class folders "
            f"(one name per line, in sorted folder order: {folders[:3]}{'...' if len(folders) > 3 else ''})"
        )

    templates_path, cupl_path = root / "templates.txt", root / "cupl_prompts.json"
    if templates_path.is_file():
        templates: list[str] | dict[str, list[str]] = check_templates(read_lines(templates_path), templates_path)
    elif cupl_path.is_file():
        templates = read_prompt_dict(cupl_path, classnames)
    else:
        raise DataMissing(f"expected file {templates_path} or {cupl_path} ({LAYOUT})")

    relpaths: list[str] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        cdir = split_dir / folder
        files = _images_under(cdir)
        if not files:
            raise DataError(
                f"class folder {cdir} has no images (extensions {shown_extensions()})"
            )
        relpaths.extend(f"{split}/{folder}/{f}" for f in files)
        labels.extend([label] * len(files))

    return ClassificationData(
        FileImages(root, relpaths),
        np.asarray(labels, dtype=np.int64),
        classnames,
        templates,
        source=str(split_dir),
        extra={"class_folders": folders},
    )
