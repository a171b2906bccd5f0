"""Class names and prompt templates from clip-benchmark's JSON files, for the sets lipeval reads itself.

A key missing from the template file falls back to the `imagenet1k` templates, as clip-benchmark's builder
does. (The linear probe never uses prompts; the readers still return them so the same sets can be scored
zero-shot.)
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from lipeval.datasets.files import read_json
from lipeval.errors import ConfigError

FILE_SHAPE = "a JSON object keyed by data set name (a clip-benchmark class-name or template file)"


def _package_folder() -> Path:
    import clip_benchmark.datasets as cbd

    return Path(cbd.__file__).parent


@lru_cache(maxsize=None)
def _packaged(filename: str) -> Any:
    return read_json(_package_folder() / filename, FILE_SHAPE)


def cb_json(filename: str) -> Any:
    """A clip-benchmark JSON file: `filename` in clip-benchmark's package folder, else `filename` as a path.

    The path form serves custom class-name and template files (`cupl_prompts.json` ships with the
    package). Package files are parsed once per process; a custom file is read on every call.
    """
    folder = _package_folder()
    if (folder / filename).is_file():
        return _packaged(filename)
    if Path(filename).is_file():
        return read_json(Path(filename), FILE_SHAPE)
    raise ConfigError(f"clip-benchmark file {filename!r} not found (looked in {folder})")


def templates_for(key: str, language: str = "en") -> list[str]:
    """clip-benchmark's prompt templates for `key`, else its imagenet1k templates."""
    table = cb_json(f"{language}_zeroshot_classification_templates.json")
    return list(table.get(key) or table["imagenet1k"])


def classnames_for(key: str, language: str = "en") -> list[str] | None:
    """clip-benchmark's curated class names for `key`, or None when it has none."""
    names = cb_json(f"{language}_classnames.json").get(key)
    return list(names) if names is not None else None


def _first_key(table: dict, keys: list[str]) -> Any:
    for k in keys:
        if k in table:
            return table[k]
    return None


def names_and_templates(keys: list[str], default_names: list[str], language: str,
                        custom_classname_file: str | None, custom_template_file: str | None) -> tuple[list[str], Any]:
    """Class names and templates of a set lipeval reads itself, with the builder's precedence.

    Templates: the custom file, else the language's template file, under the first of `keys` present,
    else `imagenet1k`'s. Names: the custom class-name file's entry under `keys`, else `default_names`.
    """
    if custom_template_file:
        templates = _first_key(cb_json(custom_template_file), keys + ["imagenet1k"])
    else:
        templates = _first_key(cb_json(f"{language}_zeroshot_classification_templates.json"), keys + ["imagenet1k"])
    names = default_names
    if custom_classname_file:
        custom = _first_key(cb_json(custom_classname_file), keys)
        if custom is not None:
            names = custom
    return list(names), templates


def fit_templates(dataset: str, classnames: list[str], templates: Any,
                  custom_template_file: str | None) -> list[str] | dict[str, list[str]]:
    """The prompts as a record holds them: a list of templates, or per-class prompts (a CuPL-style file) in
    class-name order. ConfigError when there are none, or per-class prompts miss a class name."""
    if templates is None:
        raise ConfigError(f"{dataset}: no prompt templates found in clip-benchmark's template file")
    if isinstance(templates, dict):
        missing = [c for c in classnames if c not in templates]
        if missing:
            raise ConfigError(
                f"{dataset}: the per-class prompts in {custom_template_file or 'the template file'} do not cover "
                f"the class names (first missing: {missing[:3]})"
            )
        return {c: list(templates[c]) for c in classnames}
    return list(templates)
