"""Find result folders and read their records: one `Run` per folder of `lipeval run` output.

A folder given on the command line is a run when it holds result records itself; otherwise
every folder below it that holds records is one run (so `results/` with one folder per model
works). Trainer run folders (with the trainer's `metrics.jsonl`) are found the same way, for
the loss-curve figure. Records of a `--limit` run are refused: they score partial data.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from lipeval.errors import ConfigError

# The trainer's per-step log (train/metrics.py): one JSON object per line with `step` and `loss`.
TRAIN_LOG = "metrics.jsonl"
# Every record starts with this key (lipeval.results writes it first); a cheap test before parsing.
_MARK = b'"schema_version"'
NEEDED = ("task", "task_version", "status", "metrics", "main_metric", "protocol", "model")


@dataclass
class Run:
    """The records of one `lipeval run --out` folder, keyed by task name."""

    label: str
    path: Path
    records: dict[str, dict] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def model(self) -> dict:
        recs = sorted(self.records.values(), key=lambda r: r.get("status") != "ok")  # finished ones first
        return (recs[0].get("model") or {}) if recs else {}

    def ok(self, task: str) -> dict | None:
        """The task's record when it finished (status ok), else None."""
        rec = self.records.get(task)
        return rec if rec is not None and rec.get("status") == "ok" else None


@dataclass
class TrainLog:
    """A trainer run folder's metrics log."""

    label: str
    path: Path  # the metrics.jsonl file


def _looks_like_record(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return _MARK in f.read(256)
    except OSError:
        return False


def read_run_folder(folder: Path, label: str | None = None) -> Run | None:
    """The run in `folder` (records directly inside it), or None when it holds no record."""
    folder = Path(folder)
    run = Run(label or folder.name, folder)
    for path in sorted(folder.glob("*.json")):
        if not path.is_file() or not _looks_like_record(path):
            continue
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ConfigError(f"{path}: not readable as a result record ({e})") from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path}: a result record must be a JSON object")
        missing = [k for k in NEEDED if k not in rec]
        if missing:
            raise ConfigError(f"{path}: result record lacks field(s) {', '.join(missing)} (see lipeval/results.py)")
        if not isinstance(rec["metrics"], dict):
            raise ConfigError(f"{path}: field 'metrics' must be an object of metric -> number")
        rec["metrics"] = _numbers(rec["metrics"], path, "metrics")
        rec["chance"] = _numbers(rec.get("chance") or {}, path, "chance")
        task = str(rec["task"])
        if task in run.records:
            raise ConfigError(f"{path} and {run.files[task]} both hold results of task {task!r}; keep one")
        run.records[task] = rec
        run.files[task] = path
    return run if run.records else None


def _numbers(d: dict, path: Path, name: str) -> dict[str, float]:
    """A flat metric dict as floats (null -> NaN); an error naming the metric otherwise."""
    out = {}
    for k, v in d.items():
        if v is None:
            out[k] = math.nan
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = float(v)
        else:
            raise ConfigError(f"{path}: {name}.{k} is {type(v).__name__}, expected a number or null")
    return out


def refuse_limited(run: Run, tasks: list[str] | None = None) -> None:
    """Raise when a (selected) record comes from a `--limit` run."""
    for task, rec in run.records.items():
        if tasks is not None and task not in tasks:
            continue
        if rec.get("limit") is not None:
            raise ConfigError(
                f"{run.files[task]}: a --limit {rec['limit']} run scores only part of the data; export and "
                "compare refuse such records (re-run the task without --limit)"
            )


def _walk(root: Path):
    """root and every folder below it, in a stable order."""
    for dirpath, dirnames, _ in os.walk(root):
        dirnames.sort()
        yield Path(dirpath)


def discover(paths: list[str | Path], want_logs: bool = False) -> tuple[list[Run], list[TrainLog]]:
    """Runs (and trainer logs) found in or below each path, labelled by folder name."""
    runs: list[Run] = []
    logs: list[TrainLog] = []
    for given in paths:
        root = Path(given)
        if not root.is_dir():
            raise ConfigError(f"{root}: not a folder (expected a folder of result records from `lipeval run --out`)")
        base = root.resolve().name
        for folder in _walk(root):
            rel = folder.relative_to(root).as_posix()
            label = base if rel == "." else rel
            run = read_run_folder(folder, label)
            if run is not None:
                runs.append(run)
            if want_logs and (folder / TRAIN_LOG).is_file():
                logs.append(TrainLog(label, folder / TRAIN_LOG))
    _unique_labels(runs)
    _unique_labels(logs)
    return runs, logs


def _unique_labels(items) -> None:
    """Where two items share a label, label them by their full path instead."""
    seen: dict[str, int] = {}
    for it in items:
        seen[it.label] = seen.get(it.label, 0) + 1
    paths = set()
    for it in items:
        if seen[it.label] > 1:
            it.label = str(it.path)
        key = str(Path(it.path).resolve())
        if key in paths:
            raise ConfigError(f"{it.path}: given twice")
        paths.add(key)


def load_runs(paths: list[str | Path]) -> list[Run]:
    """The runs under `paths`; an error naming the path when there is none."""
    runs, _ = discover(paths)
    if not runs:
        raise ConfigError(
            f"no result records in {', '.join(map(str, paths))} (expected the JSON files `lipeval run --out` writes)"
        )
    return runs


def find_train_log(run: Run) -> Path | None:
    """The trainer log of the model a run evaluated, when its spec is a trainer run folder or a checkpoint in it."""
    spec = str(run.model.get("spec") or "")
    if spec.startswith("open_clip:"):
        spec = spec.partition("/")[2]  # ARCH/PRETRAINED: the pretrained part may be a checkpoint file
    elif spec.startswith("local-dir:"):
        spec = spec[len("local-dir:"):]
    if not spec or not Path(spec).exists():
        return None
    p = Path(spec).resolve()
    for d in [p, *list(p.parents)[:3]]:  # RUN, or RUN/checkpoints/step_N[/weights]
        if (d / TRAIN_LOG).is_file():
            return d / TRAIN_LOG
    return None


def read_train_log(path: Path) -> list[dict]:
    """The rows of a trainer metrics log; an error naming the file and line when one is broken."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise ConfigError(f"{path}:{i}: not a JSON line ({e})") from None
        if not isinstance(row, dict) or "step" not in row or "loss" not in row:
            raise ConfigError(f"{path}:{i}: a metrics-log line needs 'step' and 'loss'")
        rows.append(row)
    return rows
