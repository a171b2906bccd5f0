"""The task registry: one YAML file per benchmark under `tasks/`, `tasks/groups.yaml`, and the user's own task
folders (`--include-path DIR`, repeatable, or `LIPEVAL_INCLUDE` = folders separated by the path separator).

Pure Python + PyYAML, no torch: `lipeval tasks` must be fast. A task file says which reader reads which
data-root folder, which kind scores it, its main metric, version, groups, options, and how reports name it:

    name: long/dci                      # equals the file's path under its folder, without .yaml
    version: 1                          # bumped whenever the definition changes a number
    kind: retrieval                     # a kind of lipeval.kinds
    description: ...
    groups: [long_retrieval]            # groups declared in a groups.yaml (optional)
    dataset: {folder: dci, reader: dci, args: {expected_images: 7805}}   # a reader of lipeval.datasets
    main_metric: mean_R@1               # a metric of the kind
    protocol: {text_preprocessing: lotlip_split}   # the kind's typed options (optional)
    display: DCI                        # short name for table headers (optional)
    family: long_text_retrieval         # what reports group it with (optional; FAMILIES)
    include: _defaults.yaml | TASK      # shared defaults, or a registered task to extend (lipeval.task_files)

Every file is checked when the registry loads (unknown kind, reader, metric, option, family or group is an
error naming the file, with a did-you-mean), so a mistake never waits for `--validate` or a run. Ad-hoc names
`wds/NAME`, `folder/NAME`, `linear_probe/wds/NAME` and `linear_probe/folder/NAME` need no file.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lipeval.datasets import READERS
from lipeval.errors import ConfigError
from lipeval.kinds import KINDS
from lipeval.task_files import GROUPS_FILE, expand, read_mapping, task_files

INCLUDE_ENV = "LIPEVAL_INCLUDE"
# The fields of a TaskConfig that its config hash covers (how reports name it and where it was read do not).
HASHED_FIELDS = ("name", "version", "kind", "description", "groups", "folder", "reader", "args", "main_metric",
                 "protocol", "synthetic")
REQUIRED = ("name", "version", "kind", "description", "dataset", "main_metric")
OPTIONAL = ("groups", "protocol", "display", "family", "include")
# What reports group tasks by (the demo's reading, the long- vs short-text figure): key -> words for people.
FAMILIES = {
    "long_text_retrieval": "long-text retrieval",
    "short_text_retrieval": "short-caption retrieval",
    "zeroshot_classification": "zero-shot classification",
    "linear_probe": "linear probe",
    "compositionality": "compositionality",
    "image_retrieval": "image-to-image retrieval",
}
AD_HOC = {
    "wds": ("wds", "clip-benchmark webdataset folder <data-root>/wds/NAME"),
    "folder": ("image_folder", "ImageFolder tree <data-root>/folder/NAME/{train,test}/<class>/..."),
}
AD_HOC_PREFIXES = ("wds/", "folder/", "linear_probe/wds/", "linear_probe/folder/")


def tasks_dir() -> Path:
    import lipeval.tasks

    return Path(lipeval.tasks.__file__).parent


@dataclass(frozen=True)
class TaskConfig:
    name: str
    version: int
    kind: str  # a key of KINDS, or "auto" for ad-hoc tasks (decided by the records)
    description: str
    groups: tuple[str, ...]
    folder: str  # relative to the data root
    reader: str
    args: dict = field(default_factory=dict)
    main_metric: str = ""
    protocol: dict = field(default_factory=dict)
    synthetic: bool = False
    display: str = ""  # short name for table headers ("" = the task name)
    family: str = ""  # a key of FAMILIES ("" = none)
    source: str = ""  # the task file it was read from ("" for ad-hoc tasks)
    user: bool = False  # read from a user folder (--include-path), not shipped with lipeval

    @property
    def file_stem(self) -> str:
        """The result file name: the task name with / replaced by __."""
        return self.name.replace("/", "__")

    @property
    def ad_hoc(self) -> bool:
        return not self.source and self.name.startswith(AD_HOC_PREFIXES)

    def config_hash(self) -> str:
        """A hash of everything in the task's definition that can change a number (a changed hash re-runs it)."""
        defining = {k: v for k, v in asdict(self).items() if k in HASHED_FIELDS}
        blob = json.dumps(defining, sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    aggregate: str  # how the group averages its members' main metrics (lipeval.aggregation)
    members: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------
# one task file
# ---------------------------------------------------------------------------------------------------------

def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _task_from_fields(d: dict[str, Any], source: str, user: bool) -> TaskConfig:
    """The TaskConfig of a file's (expanded) fields; a ConfigError naming the file for a malformed one."""
    unknown = [k for k in d if k not in REQUIRED + OPTIONAL]
    if unknown:
        raise ConfigError(f"{source}: unknown field {unknown[0]!r}{_did_you_mean(unknown[0], REQUIRED + OPTIONAL)} "
                          f"(fields: {', '.join(REQUIRED + OPTIONAL)})")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ConfigError(f"{source}: missing field(s) {', '.join(missing)}")
    ds = d["dataset"]
    if not isinstance(ds, dict) or "folder" not in ds or "reader" not in ds:
        raise ConfigError(f"{source}: field 'dataset' needs 'folder' and 'reader'")
    if not isinstance(ds.get("args") or {}, dict):
        raise ConfigError(f"{source}: field 'dataset.args' must be a mapping of reader arguments")
    groups = d.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ConfigError(f"{source}: field 'groups' must be a list of group names")
    if not isinstance(d["version"], int) or isinstance(d["version"], bool):
        raise ConfigError(f"{source}: field 'version' must be an integer, got {d['version']!r}")
    if not isinstance(d.get("protocol") or {}, dict):
        raise ConfigError(f"{source}: field 'protocol' must be a mapping of option: value")
    return TaskConfig(
        name=str(d["name"]), version=d["version"], kind=str(d["kind"]), description=str(d["description"]),
        groups=tuple(groups), folder=str(ds["folder"]), reader=str(ds["reader"]), args=dict(ds.get("args") or {}),
        main_metric=str(d["main_metric"]), protocol=dict(d.get("protocol") or {}),
        synthetic=str(d["name"]).startswith("synthetic/"), display=str(d.get("display") or ""),
        family=str(d.get("family") or ""), source=source, user=user,
    )


def _problems(t: TaskConfig, groups: dict[str, Any]) -> list[str]:
    """What is wrong with a task's kind, reader, main metric, options, family and groups."""
    where = t.source
    if t.kind not in KINDS:
        return [f"{where}: unknown kind {t.kind!r}{_did_you_mean(t.kind, list(KINDS))} (known: {', '.join(KINDS)})"]
    out = []
    if t.reader not in READERS:
        out.append(f"{where}: unknown reader {t.reader!r}{_did_you_mean(t.reader, list(READERS))} "
                   f"(known: {', '.join(READERS)})")
    kind = KINDS[t.kind]
    if t.main_metric not in kind.metrics:
        out.append(f"{where}: main_metric {t.main_metric!r} is not a metric of kind {t.kind}"
                   f"{_did_you_mean(t.main_metric, kind.metrics)} (its metrics: {', '.join(kind.metrics)})")
    try:
        kind.options.parse(t.protocol, f"{where}: protocol")
    except ConfigError as e:
        out.append(str(e))
    if t.family and t.family not in FAMILIES:
        out.append(f"{where}: unknown family {t.family!r}{_did_you_mean(t.family, list(FAMILIES))} "
                   f"(known: {', '.join(FAMILIES)})")
    for g in t.groups:
        if g not in groups:
            out.append(f"{where}: group {g!r} is not declared in a {GROUPS_FILE}{_did_you_mean(g, list(groups))}")
    return out


# ---------------------------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------------------------

@dataclass
class _Loaded:
    tasks: dict[str, TaskConfig]
    groups: dict[str, Group]
    problems: list[str]


def _read_folder(root: Path, user: bool, fields: dict[str, dict], tasks: dict[str, TaskConfig],
                 problems: list[str]) -> None:
    """Add the task files under `root` to `tasks` (and their expanded fields to `fields`)."""
    for path in task_files(root):
        rel = path.relative_to(root).with_suffix("").as_posix()
        source = str(path) if user else f"tasks/{rel}.yaml"  # shipped files by their place in the repository
        try:
            d = expand(path, fields.get)
            task = _task_from_fields(d, source, user)
        except ConfigError as e:
            problems.append(str(e))
            continue
        if task.name != rel:
            problems.append(f"{source}: name {task.name!r} must equal its path under {root} ({rel!r})")
        elif task.name in tasks:
            problems.append(f"{source}: task {task.name!r} is already defined in {tasks[task.name].source}; give "
                            f"yours another name (and `include: {task.name}` to start from it)")
        else:
            tasks[task.name] = task
            fields[task.name] = d


def _read_groups(root: Path, declared: dict[str, dict], problems: list[str]) -> None:
    path = root / GROUPS_FILE
    if not path.is_file():
        return
    try:
        decl = read_mapping(path)
    except ConfigError as e:
        problems.append(str(e))
        return
    for name, g in decl.items():
        if name in declared:
            problems.append(f"{path}: group {name!r} is already declared in {declared[name]['_source']}")
        elif not isinstance(g, dict):
            problems.append(f"{path}: group {name!r} must be a mapping with description and aggregate")
        else:
            declared[name] = {**g, "_source": str(path)}


@lru_cache(maxsize=None)
def _load(roots: tuple[str, ...]) -> _Loaded:
    """The shipped folder `roots[0]`, then each user folder."""
    tasks: dict[str, TaskConfig] = {}
    fields: dict[str, dict] = {}
    declared: dict[str, dict] = {}
    problems: list[str] = []
    for i, root in enumerate(roots):
        _read_groups(Path(root), declared, problems)
        _read_folder(Path(root), i > 0, fields, tasks, problems)
    for t in tasks.values():
        problems += _problems(t, declared)
    groups = {}
    for name, g in declared.items():
        if name == "all":  # every shipped benchmark, and the user's tasks that ask to join
            members = tuple(t.name for t in tasks.values() if not t.synthetic and (not t.user or "all" in t.groups))
        else:
            members = tuple(t.name for t in tasks.values() if name in t.groups)
        aggregate = str(g.get("aggregate", "mean"))
        if aggregate != "mean":
            problems.append(f"{g['_source']}: group {name}: unknown aggregate {aggregate!r} (known: mean)")
        groups[name] = Group(name, str(g.get("description", "")), aggregate, members)
    return _Loaded(tasks, groups, problems)


_include_paths: tuple[Path, ...] = ()


def set_include_paths(paths: Sequence[str | Path]) -> None:
    """The user task folders given on the command line (`--include-path`), used by every later load."""
    global _include_paths
    _include_paths = tuple(Path(p) for p in paths)


def include_paths() -> tuple[Path, ...]:
    """The user task folders: `--include-path` values, then those in $LIPEVAL_INCLUDE."""
    env = tuple(Path(p) for p in os.environ.get(INCLUDE_ENV, "").split(os.pathsep) if p.strip())
    paths = tuple(dict.fromkeys(p.resolve() for p in (*_include_paths, *env)))
    for p in paths:
        if not p.is_dir():
            raise ConfigError(f"--include-path / ${INCLUDE_ENV}: {p} is not a folder (expected a folder of task "
                              "YAML files)")
    return paths


def _loaded(root: Path | None, include: Sequence[Path] | None) -> _Loaded:
    extra = include_paths() if include is None else tuple(Path(p).resolve() for p in include)
    return _load((str(root or tasks_dir()), *map(str, extra)))


def load_registry(root: Path | None = None, include: Sequence[Path] | None = None
                  ) -> tuple[dict[str, TaskConfig], dict[str, Group]]:
    """Every task and group (shipped, then user folders); a ConfigError listing every problem found."""
    loaded = _loaded(root, include)
    if loaded.problems:
        raise ConfigError("task configuration problem(s):\n  " + "\n  ".join(loaded.problems))
    return loaded.tasks, loaded.groups


def validate(root: Path | None = None, include: Sequence[Path] | None = None) -> list[str]:
    """Every problem of every task file and group (empty when all is well)."""
    return list(_loaded(root, include).problems)


def ad_hoc_task(name: str) -> TaskConfig | None:
    prefix, _, rest = name.partition("/")
    if prefix == "linear_probe" and rest.partition("/")[0] in AD_HOC and rest.partition("/")[2]:
        # linear_probe/wds/NAME, linear_probe/folder/NAME: the same data-root folder as wds/NAME, folder/NAME
        reader, what = AD_HOC[rest.partition("/")[0]]
        return TaskConfig(name=name, version=1, kind="linear_probe", description=f"ad-hoc linear probe: {what}",
                          groups=(), folder=rest, reader="probe", args={"reader": reader})
    if prefix not in AD_HOC or not rest:
        return None
    reader, what = AD_HOC[prefix]
    return TaskConfig(name=name, version=1, kind="auto", description=f"ad-hoc: {what}", groups=(),
                      folder=name, reader=reader)


def resolve(names: list[str], root: Path | None = None) -> list[TaskConfig]:
    """Expand task and group names (in the given order, without duplicates)."""
    tasks, groups = load_registry(root)
    out: dict[str, TaskConfig] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in tasks:
            out.setdefault(name, tasks[name])
        elif name in groups:
            for m in groups[name].members:
                out.setdefault(m, tasks[m])
        elif (t := ad_hoc_task(name)) is not None:
            out.setdefault(name, t)
        else:
            close = difflib.get_close_matches(name, list(tasks) + list(groups), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `lipeval tasks`"
            raise ConfigError(f"--tasks: unknown task or group {name!r}{hint}")
    if not out:
        raise ConfigError("--tasks: no task given")
    return list(out.values())
