"""Reading task YAML files: one mapping of fields per file, with `include:` for shared defaults.

`include: FILE.yaml` (a path relative to the including file) takes that file's fields as defaults;
`include: TASK` (a registered task's name) starts from that task's definition, minus what names it or places
it (its name, groups and display name): a variant of a shipped task under its own name. The including file's
own fields win; mappings (`dataset`, `dataset.args`, `protocol`) are merged key by key, the file's own keys
first. Files whose name starts with "_" hold shared defaults only and are not tasks. Pure Python + PyYAML.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from lipeval.errors import ConfigError

GROUPS_FILE = "groups.yaml"
TEMPLATE_PREFIX = "_"
NOT_INHERITED = ("name", "groups", "display")  # what `include: TASK` does not take from the task


def read_mapping(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`; a ConfigError naming the file otherwise."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of task fields, got {type(data).__name__}")
    return data


def merge(own: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`own` over `base`: own keys first (mappings merged the same way, recursively), then the rest of base."""
    out = {}
    for k, v in own.items():
        out[k] = merge(v, base[k]) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    for k, v in base.items():
        out.setdefault(k, v)
    return out


def task_files(root: Path) -> list[Path]:
    """The task files under `root`, in a stable order (templates and groups.yaml left out)."""
    return [p for p in sorted(Path(root).rglob("*.yaml"))
            if p.name != GROUPS_FILE and not p.name.startswith(TEMPLATE_PREFIX)]


def expand(path: Path, task_fields: Callable[[str], dict[str, Any] | None],
           chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The fields of the task file `path` with its `include:` (and theirs) applied. `task_fields(name)` gives
    a registered task's fields, or None when there is no such task."""
    path = Path(path)
    if path.resolve() in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise ConfigError(f"{path}: include cycle ({cycle})")
    fields = read_mapping(path)
    include = fields.pop("include", None)
    if include is None:
        return fields
    if not isinstance(include, str) or not include.strip():
        raise ConfigError(f"{path}: include must be a file name (ending in .yaml) or a task name, got {include!r}")
    include = include.strip()
    if include.endswith((".yaml", ".yml")):
        target = path.parent / include
        if not target.is_file():
            raise ConfigError(f"{path}: include {include!r}: no such file {target}")
        base = expand(target, task_fields, (*chain, path.resolve()))
    else:
        found = task_fields(include)
        if found is None:
            raise ConfigError(f"{path}: include {include!r}: no such task (give a task name from `lipeval tasks` "
                              f"or a .yaml file relative to {path.parent})")
        base = {k: v for k, v in found.items() if k not in NOT_INHERITED}
    return merge(fields, base)
