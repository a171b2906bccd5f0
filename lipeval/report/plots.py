"""Figures from result records and trainer logs, readable at paper size, colour-blind-safe.

- one grouped bar chart per task group (main metric per task, one bar per run, chance marked);
- the long-text vs short-text retrieval scatter (the trade-off the long-caption papers study);
- the trainer's loss curves, from each trainer run's `metrics.jsonl`.

Figures are built with matplotlib's object API (no pyplot, no global state, no display) in
the Okabe-Ito palette, with hatching once the palette runs out; each is saved as PNG and PDF.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from lipeval.errors import ConfigError
from lipeval.report.labels import metric_name, task_names
from lipeval.report.runs import Run, TrainLog, discover, find_train_log, read_train_log
from lipeval.report.table import Leaderboard, build

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
HATCHES = ["", "///", "...", "xxx"]
PAPER = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.spines.top": False, "axes.spines.right": False,
    "pdf.fonttype": 42, "ps.fonttype": 42, "savefig.bbox": "tight", "savefig.dpi": 200,
}
SINGLE, DOUBLE = 3.4, 7.0  # column widths of a two-column paper, inches
WIDE = 6  # a group with more tasks than this gets horizontal bars

# The long- vs short-text retrieval figure pairs the tasks of these two families (task files' `family:`),
# one panel for the benchmarks and one for the synthetic suite.
LONG_FAMILY, SHORT_FAMILY = "long_text_retrieval", "short_text_retrieval"
TRADE_OFF_PANELS = (("benchmarks", False), ("synthetic suite", True))


@dataclass
class Figure:
    name: str  # file stem
    fig: object  # matplotlib.figure.Figure

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()


def style(i: int) -> dict:
    """Colour (and hatch beyond eight) of the i-th run, the same in every figure."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)], "hatch": HATCHES[(i // len(OKABE_ITO)) % len(HATCHES)]}


def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=(width, height), layout="constrained")


def _chance(lb: Leaderboard, task: str, metric: str) -> float:
    vals = [r.records[task]["chance"].get(metric, math.nan) for r in lb.runs if r.ok(task)]
    vals = [v for v in vals if not math.isnan(v)]
    return 100 * sum(vals) / len(vals) if vals else math.nan


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "group"


def _group_sets(lb: Leaderboard, groups: dict) -> list[tuple[str, list[int]]]:
    """(group, indices of its task columns) for each group with a task in the table; `other` for the rest."""
    task_cols = [i for i, c in enumerate(lb.columns) if not c.average]
    out, seen, covered = [], set(), set()
    for g in groups.values():
        idx = [i for i in task_cols if lb.columns[i].task in g.members]
        avg = [i for i, c in enumerate(lb.columns) if c.average and c.task == g.name]
        if not idx or frozenset(idx) in seen:
            continue
        seen.add(frozenset(idx))
        covered.update(idx)
        out.append((g.name, idx + avg))
    rest = [i for i in task_cols if i not in covered]
    if rest:
        out.append(("other", rest))
    return out


def _bar_label(col, names: dict[str, str], sep: str) -> str:
    if col.average:
        return f"Avg. {col.task}"
    return names[col.task] + (f" ({col.variant})" if col.variant else "") + sep + metric_name(col.metric)


def bar_charts(lb: Leaderboard, groups: dict) -> list[Figure]:
    """One grouped bar chart per group: vertical bars for a few tasks, horizontal ones (a task per row) beyond."""
    names = task_names(lb.columns)
    values = lb.shown()
    n_runs = len(lb.runs)
    bar_w = 0.8 / max(n_runs, 1)
    out = []
    for gname, idx in _group_sets(lb, groups):
        horizontal = len(idx) > WIDE
        labels = [_bar_label(lb.columns[i], names, " · " if horizontal else "\n") for i in idx]
        if horizontal:
            fig = _new_figure(DOUBLE * 0.8, 0.9 + len(idx) * (0.09 * n_runs + 0.1))
        else:
            fig = _new_figure(min(DOUBLE, max(SINGLE, 0.9 + len(idx) * (0.18 * n_runs + 0.25))), 2.4)
        ax = fig.add_subplot()
        draw = ax.barh if horizontal else ax.bar
        for r, run in enumerate(lb.runs):
            pos = [k + (r - (n_runs - 1) / 2) * bar_w for k in range(len(idx))]
            vals = [values.iloc[r, i] for i in idx]
            draw(pos, [0 if math.isnan(v) else v for v in vals], bar_w, label=run.label, edgecolor="white",
                 linewidth=0.4, **style(r))
            for p, v in zip(pos, vals):
                if math.isnan(v):
                    xy = (0.5, p) if horizontal else (p, 0.5)
                    ax.text(*xy, "n/a", rotation=0 if horizontal else 90, fontsize=6, color="0.4",
                            ha="left" if horizontal else "center", va="center" if horizontal else "bottom")
        labelled = False
        for k, i in enumerate(idx):
            c = lb.columns[i]
            ch = math.nan if c.average else _chance(lb, c.task, c.metric)
            if not math.isnan(ch):
                line = ax.vlines if horizontal else ax.hlines
                line(ch, k - 0.45, k + 0.45, colors="black", linestyles="--", linewidth=0.9,
                     label=None if labelled else "chance")
                labelled = True
        top = max(5.0, min(100.0, (values.iloc[:, idx].max().max() or 0) * 1.1 + 1))
        if horizontal:
            ax.set_yticks(range(len(idx)), labels)
            ax.invert_yaxis()  # the first task on top, runs in legend order
            ax.set_xlabel("main metric (%)")
            ax.set_xlim(0, top)
            ax.grid(axis="x", alpha=0.3, linewidth=0.5)
        else:
            tilt = len(idx) > 4
            ax.set_xticks(range(len(idx)), labels, rotation=30 if tilt else 0, ha="right" if tilt else "center")
            ax.set_ylabel("main metric (%)")
            ax.set_ylim(0, top)
            ax.grid(axis="y", alpha=0.3, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_title(f"{gname}: main metric per task")
        handles, texts = ax.get_legend_handles_labels()
        fig.legend(handles, texts, frameon=False, ncols=min(5, n_runs + 1), loc="outside lower center")
        out.append(Figure(f"bars_{_safe(gname)}", fig))
    return out


def _family(tasks: dict, family: str, synthetic: bool) -> list[str]:
    """The registered tasks of a family, benchmarks or synthetic, in registry order."""
    return [t.name for t in tasks.values() if t.family == family and t.synthetic == synthetic]


def trade_off(lb: Leaderboard) -> tuple[Figure | None, list[str]]:
    """Long-text vs short-text retrieval, one point per run; notes say what could not be drawn.

    `lb` holds main metrics only (as `lipeval plot` builds it); a task split by protocol is left out.
    """
    main = {c.task: i for i, c in enumerate(lb.columns) if not c.average and not c.variant}
    split = {c.task for c in lb.columns if c.variant}
    values = lb.frame
    panels, notes = [], []
    from lipeval.registry import load_registry

    tasks = load_registry()[0]
    for title, synthetic in TRADE_OFF_PANELS:
        long_all, short_all = _family(tasks, LONG_FAMILY, synthetic), _family(tasks, SHORT_FAMILY, synthetic)
        if split & set(long_all + short_all):
            notes.append(f"long vs short ({title}): not drawn, {', '.join(sorted(split & set(long_all + short_all)))}"
                         " mixes protocols")
            continue
        long_t = [t for t in long_all if t in main]
        short_t = [t for t in short_all if t in main]
        if not long_t or not short_t:
            if long_t or short_t:
                notes.append(f"long vs short ({title}): needs both long- and short-text retrieval results")
            continue
        pts = []
        for r, run in enumerate(lb.runs):
            ly = [values.iloc[r, main[t]] for t in long_t]
            sx = [values.iloc[r, main[t]] for t in short_t]
            if any(math.isnan(v) for v in ly + sx):
                notes.append(f"long vs short ({title}): {run.label} left out (a task is missing)")
                continue
            pts.append((r, run.label, sum(sx) / len(sx), sum(ly) / len(ly)))
        if pts:
            chance = (sum(_chance(lb, t, lb.columns[main[t]].metric) for t in short_t) / len(short_t),
                      sum(_chance(lb, t, lb.columns[main[t]].metric) for t in long_t) / len(long_t))
            panels.append((title, long_t, short_t, pts, chance))
    if not panels:
        return None, notes
    fig = _new_figure(SINGLE * len(panels), SINGLE * 0.9)
    for p, (title, long_t, short_t, pts, chance) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), p + 1)
        top = max([v for _, _, x, y in pts for v in (x, y)] + [c for c in chance if not math.isnan(c)])
        lim = max(5.0, min(100.0, top * 1.15 + 1))
        ax.plot([0, lim], [0, lim], color="0.6", linestyle=":", linewidth=0.8)
        if not any(math.isnan(c) for c in chance):
            ax.scatter([chance[0]], [chance[1]], marker="x", color="0.3", s=22, label="chance", zorder=3)
        for r, label, x, y in pts:
            ax.scatter([x], [y], color=style(r)["color"], s=28, edgecolor="black", linewidth=0.4, zorder=4,
                       label=label)
            ax.annotate(label, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6)
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        ax.set_aspect("equal")
        ax.set_xlabel(f"short-text retrieval, mean R@1 (%)\n({', '.join(short_t)})", fontsize=7)
        ax.set_ylabel(f"long-text retrieval, mean R@1 (%)\n(mean of {len(long_t)} sets)", fontsize=7)
        ax.set_title(title)
        ax.grid(alpha=0.3, linewidth=0.5)
    handles, texts = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, frameon=False, fontsize=6, ncols=min(4, len(texts)), loc="outside lower center")
    return Figure("long_vs_short", fig), notes


def loss_curves(logs: list[tuple[str, int, list[dict]]], title: str = "trainer runs: loss") -> Figure | None:
    """Training loss against step per trainer run: raw (faint) and a running mean (also the trainer's loss.png)."""
    import pandas as pd

    if not logs:
        return None
    fig = _new_figure(SINGLE, 2.4)
    ax = fig.add_subplot()
    for label, i, rows in logs:
        steps = [r["step"] for r in rows]
        loss = pd.Series([float(r["loss"]) for r in rows])
        window = max(1, len(rows) // 25)
        colour = style(i)["color"]
        ax.plot(steps, loss, color=colour, alpha=0.25, linewidth=0.6)
        ax.plot(steps, loss.rolling(window, min_periods=1).mean(), color=colour, linewidth=1.4,
                label=f"{label} (mean of {window})" if window > 1 else label)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.legend(frameon=False)
    return Figure("loss_curves", fig)


def collect_logs(runs: list[Run], logs: list[TrainLog]) -> list[tuple[str, int, list[dict]]]:
    """(label, colour index, rows) per trainer run: given folders, and the runs' models' own logs."""
    out, seen = [], set()
    for i, run in enumerate(runs):
        path = find_train_log(run)
        if path is not None and path.resolve() not in seen:
            seen.add(path.resolve())
            out.append((run.label, i, read_train_log(path)))
    for k, log in enumerate(logs):
        if log.path.resolve() not in seen:
            seen.add(log.path.resolve())
            out.append((log.label, len(runs) + k, read_train_log(log.path)))
    return [o for o in out if o[2]]


def make_figures(lb: Leaderboard | None, groups: dict, logs: list[tuple[str, int, list[dict]]]):
    """Every figure that the data allows, and notes on what was left out."""
    import matplotlib

    figs, notes = [], []
    with matplotlib.rc_context(PAPER):
        if lb is not None:
            figs += bar_charts(lb, groups)
            scatter, notes = trade_off(lb)
            if scatter is not None:
                figs.append(scatter)
        loss = loss_curves(logs)
        if loss is not None:
            figs.append(loss)
    return figs, notes


def figures_of(paths: list, tasks: list[str] | None = None, group: str | None = None, decimals: int = 1,
               split: bool = False):
    """(leaderboard of main metrics or None, figures, notes) for the result folders and trainer logs found
    in or below `paths`: what `lipeval plot`, the HTML page and the demo draw."""
    from lipeval.registry import load_registry

    runs, logs = discover(paths, want_logs=True)
    if not runs and not logs:
        raise ConfigError(f"no result records or trainer logs in {', '.join(map(str, paths))}")
    registry = load_registry()
    lb = build(runs, tasks=tasks, group=group, metrics="main", decimals=decimals, split=split,
               registry=registry) if runs else None
    figs, notes = make_figures(lb, registry[1], collect_logs(runs, logs))
    return lb, figs, notes


def save(figs: list[Figure], out_dir: Path) -> list[Path]:
    """Each figure as OUT/NAME.png and OUT/NAME.pdf (PDF without a creation date, so reproducible)."""
    import matplotlib

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(PAPER):
        for f in figs:
            for ext, meta in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Creator": None})):
                p = out_dir / f"{f.name}.{ext}"
                f.fig.savefig(p, format=ext, metadata=meta)
                paths.append(p)
    return paths
