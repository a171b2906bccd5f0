"""The task registry: one YAML file per benchmark under `tasks/`, plus `tasks/groups.yaml`.

Pure Python + PyYAML, no torch: `lipeval tasks` must be fast. A task file says which
reader reads which data-root folder, which kind scores it, its main metric, version and
groups. Ad-hoc names `wds/NAME` and `folder/NAME` need no file.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from lipeval.datasets import READERS
from lipeval.errors import ConfigError
from lipeval.kinds import KINDS

# The fields of a TaskConfig that its config hash covers (display metadata and the file's location do not).
HASHED_FIELDS = ("name", "version", "kind", "description", "groups", "folder", "reader", "args", "main_metric",
                 "protocol", "synthetic")
REQUIRED = ("name", "version", "kind", "description", "groups", "dataset", "main_metric")
AD_HOC = {
    "wds": ("wds", "clip-benchmark webdataset folder <data-root>/wds/NAME"),
    "folder": ("image_folder", "ImageFolder tree <data-root>/folder/NAME/{train,test}/<class>/..."),
}


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
    source: str = ""  # the task file it was read from ("" for ad-hoc tasks); not part of the config hash

    @property
    def file_stem(self) -> str:
        """The result file name: the task name with / replaced by __."""
        return self.name.replace("/", "__")

    def config_hash(self) -> str:
        """A hash of everything in the task's definition that can change a number (a changed hash re-runs it)."""
        defining = {k: v for k, v in asdict(self).items() if k in HASHED_FIELDS}
        blob = json.dumps(defining, sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    aggregate: str  # how the group averages its members' main metrics
    members: tuple[str, ...]


def _task_from_dict(d: dict, source: str) -> TaskConfig:
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ConfigError(f"{source}: missing field(s) {', '.join(missing)}")
    ds = d["dataset"]
    if not isinstance(ds, dict) or "folder" not in ds or "reader" not in ds:
        raise ConfigError(f"{source}: field 'dataset' needs 'folder' and 'reader'")
    groups = d["groups"]
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ConfigError(f"{source}: field 'groups' must be a list of group names")
    if not isinstance(d["version"], int):
        raise ConfigError(f"{source}: field 'version' must be an integer, got {d['version']!r}")
    return TaskConfig(
        name=str(d["name"]), version=d["version"], kind=str(d["kind"]), description=str(d["description"]),
        groups=tuple(groups), folder=str(ds["folder"]), reader=str(ds["reader"]), args=dict(ds.get("args") or {}),
        main_metric=str(d["main_metric"]), protocol=dict(d.get("protocol") or {}),
        synthetic=str(d["name"]).startswith("synthetic/"), source=source,
    )


@lru_cache(maxsize=None)
def _load(root: str) -> tuple[dict[str, TaskConfig], dict[str, Group]]:
    base = Path(root)
    tasks: dict[str, TaskConfig] = {}
    for path in sorted(base.rglob("*.yaml")):
        if path.name == "groups.yaml":
            continue
        rel = path.relative_to(base).with_suffix("").as_posix()
        try:
            d = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{path}: expected a mapping of task fields")
        task = _task_from_dict(d, str(path))
        if task.name != rel:
            raise ConfigError(f"{path}: name {task.name!r} must equal its path under tasks/ ({rel!r})")
        tasks[task.name] = task
    gdecl = yaml.safe_load((base / "groups.yaml").read_text(encoding="utf-8")) or {}
    groups = {}
    for gname, g in gdecl.items():
        members = tuple(t.name for t in tasks.values() if gname in t.groups)
        if gname == "all":
            members = tuple(t.name for t in tasks.values() if not t.synthetic)
        groups[gname] = Group(gname, str(g.get("description", "")), str(g.get("aggregate", "mean")), members)
    return tasks, groups


def load_registry(root: Path | None = None) -> tuple[dict[str, TaskConfig], dict[str, Group]]:
    return _load(str(root or tasks_dir()))


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


def validate(root: Path | None = None) -> list[str]:
    """Check every task config; return a list of problems (empty when all is well)."""
    problems = []
    try:
        tasks, groups = load_registry(root)
    except ConfigError as e:
        return [str(e)]
    for t in tasks.values():
        where = f"tasks/{t.name}.yaml"
        if t.kind not in KINDS:
            problems.append(f"{where}: unknown kind {t.kind!r} (known: {', '.join(KINDS)})")
            continue
        if t.reader not in READERS:
            problems.append(f"{where}: unknown reader {t.reader!r} (known: {', '.join(READERS)})")
        if t.main_metric not in KINDS[t.kind].metrics:
            problems.append(f"{where}: main_metric {t.main_metric!r} is not a metric of kind {t.kind}")
        try:
            KINDS[t.kind].options.parse(t.protocol, f"{where}: protocol")
        except ConfigError as e:
            problems.append(str(e))
        for g in t.groups:
            if g not in groups:
                problems.append(f"{where}: group {g!r} is not declared in tasks/groups.yaml")
    for g in groups.values():
        if g.aggregate != "mean":
            problems.append(f"tasks/groups.yaml: group {g.name}: unknown aggregate {g.aggregate!r} (known: mean)")
    return problems
