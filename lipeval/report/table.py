"""The leaderboard: one row per run, one column per task x metric, plus group averages.

Values are percentages. A task's results are merged into one column only when they agree on
everything that changes a number: the task version, the main metric, every protocol option
and the data size. When they do not, the table is refused, or (with `split=True`) the task
gets one column per variant, lettered (a), (b), ..., and a note says what differs. Group
averages follow the rule of lipeval.aggregation over the members shown: blank for a run where
one of them has no value, and a note says how many do.
Best and second-best cells are ranked on the values as displayed (every lipeval metric is
higher-is-better), so the marks always agree with the printed numbers.
"""
from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lipeval.aggregation import group_value, main_value
from lipeval.errors import ConfigError
from lipeval.report.runs import Run, refuse_limited

MEAN_OF_MAIN = "mean of main metrics"
LEVELS = ("task", "metric")
INDEX = "run"


@dataclass(frozen=True)
class Column:
    """A task x metric column (variant "" unless the task is split), or a group average."""

    task: str  # task name; the group name for an average
    metric: str  # metric key; MEAN_OF_MAIN for an average
    variant: str = ""
    average: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """The two header levels, as written to CSV."""
        if self.average:
            return (f"Avg. {self.task}", MEAN_OF_MAIN)
        return (self.task + (f" ({self.variant})" if self.variant else ""), self.metric)


@dataclass
class Leaderboard:
    frame: pd.DataFrame  # percentages, unrounded; index: run labels; columns: Column.key pairs
    columns: list[Column]
    decimals: int
    notes: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    def shown(self) -> pd.DataFrame:
        """The values as displayed: percentages rounded to `decimals` as Python's formatting rounds them
        (the exact binary value, so 8.05 shows as 8.1 here and everywhere else lipeval prints it; numpy's
        `round` scales first and would show 8.0)."""
        return self.frame.apply(lambda col: col.map(lambda v: v if pd.isna(v) else float(f"{v:.{self.decimals}f}")))

    def marks(self) -> pd.DataFrame:
        """"best" / "second" / "" per cell, ranked per column on the displayed values.

        Ties share a mark; a column whose values are all equal (or with fewer than two values)
        gets no mark, since nothing distinguishes its rows.
        """
        shown = self.shown()
        out = pd.DataFrame("", index=shown.index, columns=shown.columns)
        for col in shown.columns:
            vals = shown[col].dropna()
            if vals.nunique() < 2:
                continue
            best = vals.max()
            rest = vals[vals < best]
            out.loc[vals.index[vals == best], col] = "best"
            if len(rest):
                out.loc[rest.index[rest == rest.max()], col] = "second"
        return out

    def cell(self, value: float) -> str:
        return "" if value is None or math.isnan(value) else f"{value:.{self.decimals}f}"

    def provenance(self) -> list[str]:
        """One line per run: label, model spec and weight fingerprint."""
        out = []
        for r in self.runs:
            m = r.model
            out.append(f"{r.label}: {m.get('spec', '?')} (weights {m.get('fingerprint', '?')})")
        return out


def value_text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def signature(rec: dict) -> dict[str, str]:
    """Everything that must agree for two results of a task to share a column."""
    sig = {"task_version": str(rec.get("task_version")), "main_metric": str(rec.get("main_metric"))}
    for k, v in sorted((rec.get("protocol") or {}).items()):
        sig[k] = value_text(v)
    ds = rec.get("dataset") or {}
    for k in ("n_images", "n_texts"):
        if ds.get(k) is not None:
            sig[f"dataset.{k}"] = str(ds[k])
    return sig


def _differences(sigs: list[dict[str, str]]) -> list[str]:
    keys = sorted({k for s in sigs for k in s})
    return [k for k in keys if len({s.get(k, "(absent)") for s in sigs}) > 1]


@dataclass
class _Variant:
    sig: dict[str, str]
    runs: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)


def _variants(task: str, runs: list[Run]) -> list[_Variant]:
    out: list[_Variant] = []
    for run in runs:
        rec = run.ok(task)
        if rec is None:
            continue
        sig = signature(rec)
        for v in out:
            if v.sig == sig:
                break
        else:
            v = _Variant(sig)
            out.append(v)
        v.runs.append(run.label)
        v.records.append(rec)
    return out


def _describe(variants: list[_Variant]) -> list[str]:
    diff = _differences([v.sig for v in variants])
    return [", ".join(f"{k}={v.sig.get(k, '(absent)')}" for k in diff) for v in variants]


def _select_tasks(runs: list[Run], tasks: list[str] | None, group: str | None, registry) -> list[str]:
    reg_tasks, groups = registry
    present = {t for r in runs for t in r.records}
    order = [t for t in reg_tasks if t in present]
    order += sorted(present - set(order))
    if group is not None:
        if group not in groups:
            close = difflib.get_close_matches(group, list(groups), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f" (groups: {', '.join(groups)})"
            raise ConfigError(f"--group: unknown group {group!r}{hint}")
        order = [t for t in order if t in groups[group].members]
        if not order:
            raise ConfigError(f"--group {group}: none of its tasks has a result in the given folders "
                              f"(members: {', '.join(groups[group].members) or 'none'})")
    if tasks:
        chosen: list[str] = []
        for name in tasks:
            if name in present:
                found = [name]
            elif name in groups:
                found = [t for t in order if t in groups[name].members]
            else:
                close = difflib.get_close_matches(name, sorted(present) + list(groups), n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ConfigError(f"--tasks: no result for task or group {name!r} in the given folders{hint}")
            chosen += [t for t in found if t in order and t not in chosen]
        if not chosen:
            raise ConfigError(f"--tasks {','.join(tasks)}: no matching result"
                              + (f" in group {group}" if group else ""))
        order = chosen
    return order


def _metrics_for(task: str, variant: _Variant | None, metrics: str | list[str], fallback_main: str) -> list[str]:
    main = variant.sig["main_metric"] if variant else fallback_main
    if metrics == "main":
        return [main]
    have: list[str] = []
    for rec in variant.records if variant else []:
        have += [m for m in rec["metrics"] if m not in have]
    if metrics == "all":
        return have or [main]
    chosen = [m for m in metrics if m in have]
    if variant and not chosen:
        raise ConfigError(f"--metrics {','.join(metrics)}: task {task} has none of them "
                          f"(its metrics: {', '.join(have)}); choose tasks with --tasks")
    return chosen or [main]


def _default_protocol(task: str, registry) -> dict | None:
    """The protocol a task runs with when nothing is overridden (None for ad-hoc tasks)."""
    from lipeval.kinds import KINDS

    cfg = registry[0].get(task)
    if cfg is None or cfg.kind not in KINDS:
        return None
    options = KINDS[cfg.kind].options.parse(cfg.protocol, cfg.source or cfg.name)
    return {**options.record(), **{f"reader.{k}": v for k, v in cfg.args.items()}}


def parse_metrics(text: str) -> str | list[str]:
    """`main`, `all`, or a comma-separated list of metric keys."""
    text = (text or "main").strip()
    if text in ("main", "all"):
        return text
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise ConfigError("--metrics: expected main, all or a comma-separated list of metric names")
    return names


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _task_columns(task: str, runs: list[Run], metrics, split: bool, registry, notes: list[str], data: dict
                  ) -> tuple[list[Column], bool]:
    """The columns of one task (one per variant x metric); True when the task is split."""
    variants = _variants(task, runs)
    if len(variants) > 1:
        if not split:
            lines = [f"  {', '.join(v.runs)}: {d}" for v, d in zip(variants, _describe(variants))]
            raise ConfigError(
                f"task {task}: results differ in what changes a number, refusing to put them in one "
                "column:\n" + "\n".join(lines) + "\n(export them separately, or pass --split-protocols "
                "for one column per variant)")
        parts = [f"({letter}) {d} [{', '.join(v.runs)}]"
                 for letter, v, d in zip(LETTERS, variants, _describe(variants))]
        notes.append(f"{task}: " + "; ".join(parts) + "; separate columns, not comparable with each other")
    fallback_main = next((r.records[task].get("main_metric", "") for r in runs if task in r.records), "")
    default = _default_protocol(task, registry)
    cfg = registry[0].get(task)
    columns = []
    for letter, v in zip(LETTERS, variants or [None]):
        variant = letter if len(variants) > 1 else ""
        for m in _metrics_for(task, v, metrics, fallback_main):
            col = Column(task, m, variant)
            columns.append(col)
            data[col.key] = [
                100 * run.records[task]["metrics"].get(m, math.nan)
                if v is not None and run.ok(task) is not None and signature(run.records[task]) == v.sig
                else math.nan
                for run in runs
            ]
        if v is None:
            continue
        label = f"{task} ({variant})" if variant else task
        for k, val in sorted((v.records[0].get("protocol") or {}).items()):
            if default is not None and k in default and val != default[k]:
                notes.append(f"{label}: non-default protocol {k}={value_text(val)} (default {value_text(default[k])})")
        if cfg is not None and v.sig["task_version"] != str(cfg.version):
            notes.append(f"{label}: results of task version {v.sig['task_version']}; the current "
                         f"definition is version {cfg.version} (re-run to refresh)")
    return columns, len(variants) > 1


def _status_notes(runs: list[Run], selected: list[str]) -> list[str]:
    notes = []
    for run in runs:
        absent = [t for t in selected if t not in run.records]
        if absent:
            notes.append(f"{run.label}: no result for {', '.join(absent)}")
        for t in selected:
            rec = run.records.get(t)
            if rec is not None and rec.get("status") != "ok":
                err = str(rec.get("error") or "").splitlines()[0][:160] if rec.get("error") else ""
                notes.append(f"{run.label}: {t} {rec.get('status')}" + (f" ({err})" if err else ""))
    return notes


def _average_columns(runs: list[Run], selected: list[str], group: str | None, groups: dict, split_tasks: set[str],
                     notes: list[str], data: dict) -> list[Column]:
    """One average per group with two or more shown members (only `group`'s when given)."""
    shown = [groups[group]] if group else list(groups.values())
    columns, seen = [], set()
    for g in shown:
        members = [t for t in selected if t in g.members]
        if len(members) < 2 or frozenset(members) in seen:
            continue
        seen.add(frozenset(members))
        if split_tasks & set(members):
            notes.append(f"Avg. {g.name}: not computed, since members are split by protocol "
                         f"({', '.join(sorted(split_tasks & set(members)))})")
            continue
        if g.aggregate != "mean":
            raise ConfigError(f"tasks/groups.yaml: group {g.name}: unknown aggregate {g.aggregate!r} (known: mean)")
        values, blank = [], []
        for run in runs:
            v = group_value([main_value(run.records.get(t)) for t in members])
            values.append(math.nan if v.mean is None else 100 * v.mean)
            if v.mean is None:
                blank.append(f"{run.label} ({v.count} have a value)")
        col = Column(g.name, MEAN_OF_MAIN, average=True)
        columns.append(col)
        data[col.key] = values
        part = "" if len(members) == len(g.members) else f" ({len(members)} of the group's {len(g.members)})"
        notes.append(f"Avg. {g.name}: unweighted mean of the main metric over {len(members)} tasks{part}"
                     + (f"; blank where a member has no value: {', '.join(blank)}" if blank else ""))
    return columns


def build(runs: list[Run], tasks: list[str] | None = None, group: str | None = None,
          metrics: str | list[str] = "main", decimals: int = 1, split: bool = False,
          registry=None) -> Leaderboard:
    """The leaderboard of `runs` (see the module docstring for the rules)."""
    if registry is None:
        from lipeval.registry import load_registry

        registry = load_registry()
    if decimals < 0 or decimals > 6:
        raise ConfigError(f"--decimals {decimals}: expected 0 to 6")
    selected = _select_tasks(runs, tasks, group, registry)
    for run in runs:
        refuse_limited(run, selected)
    notes: list[str] = []
    unfinished = [t for t in selected if not any(r.ok(t) for r in runs)]
    if not tasks and 0 < len(unfinished) < len(selected):  # a task asked for by name stays, blank
        selected = [t for t in selected if t not in unfinished]
        notes.append(f"left out, no finished result in any run: {', '.join(unfinished)}")
    columns: list[Column] = []
    data: dict[tuple[str, str], list[float]] = {}
    split_tasks: set[str] = set()
    for task in selected:
        cols, was_split = _task_columns(task, runs, metrics, split, registry, notes, data)
        columns += cols
        if was_split:
            split_tasks.add(task)
    notes += _status_notes(runs, selected)
    columns += _average_columns(runs, selected, group, registry[1], split_tasks, notes, data)
    if any((rec.get("dataset") or {}).get("synthetic") for r in runs for t, rec in r.records.items()
           if t in selected):
        notes.append("synthetic-suite results measure lipeval's shapes world, not any real benchmark")
    frame = pd.DataFrame(data, index=pd.Index([r.label for r in runs], name=INDEX))
    frame.columns = pd.MultiIndex.from_tuples([c.key for c in columns], names=list(LEVELS))
    return Leaderboard(frame, columns, decimals, list(dict.fromkeys(notes)), runs)


def write_csv(lb: Leaderboard, path: Path | None = None) -> str:
    """Two header rows (task, metric), one row per run; percentages with `decimals` decimals."""
    text = lb.shown().to_csv(float_format=f"%.{lb.decimals}f", lineterminator="\n")
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def read_csv(path: Path) -> pd.DataFrame:
    """A leaderboard CSV back as the frame `Leaderboard.shown()` returned."""
    try:
        frame = pd.read_csv(path, header=[0, 1], index_col=0)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a lipeval leaderboard CSV ({e})") from None
    frame.columns = frame.columns.set_names(list(LEVELS))
    frame.index.name = INDEX
    return frame.astype(float)
