"""The `export`, `plot` and `compare` subcommands (registered by lipeval.cli; torch is never imported)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lipeval.cli_support import add_include_path
from lipeval.errors import ConfigError

FORMATS = {"csv": ".csv", "latex": ".tex", "markdown": ".md", "html": ".html"}


def _tasks(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _format(args) -> str:
    if args.format:
        return args.format
    if args.out:
        suffix = Path(args.out).suffix.lower()
        for fmt, ext in FORMATS.items():
            if suffix == ext or (fmt == "latex" and suffix == ".latex"):
                return fmt
        raise ConfigError(f"--out {args.out}: cannot tell the format from the suffix {suffix!r}; pass --format")
    return "markdown"


def _leaderboard(args, metrics):
    from lipeval.report.runs import load_runs
    from lipeval.report.table import build

    return build(load_runs(args.result_dirs), tasks=_tasks(args.tasks), group=args.group, metrics=metrics,
                 decimals=args.decimals, split=args.split_protocols)


def _figures(args):
    """(leaderboard of main metrics or None, figures, notes) for plot and the HTML page."""
    from lipeval.report.plots import figures_of

    return figures_of(args.result_dirs, tasks=_tasks(args.tasks), group=args.group, decimals=args.decimals,
                      split=args.split_protocols)


def cmd_export(args) -> int:
    from lipeval.report.table import parse_metrics, write_csv

    fmt = _format(args)
    lb = _leaderboard(args, parse_metrics(args.metrics))
    if fmt == "csv":
        text = write_csv(lb)
        for n in lb.notes:
            print(f"note: {n}", file=sys.stderr)
    elif fmt == "latex":
        from lipeval.report.latex import render

        text = render(lb, caption=args.caption, standalone=args.standalone)
    elif fmt == "markdown":
        from lipeval.report.markdown import render

        text = render(lb)
    else:
        from lipeval.report.html import render

        _, figs, fig_notes = _figures(args) if not args.no_figures else (None, [], [])
        text = render(lb, figs, title=args.title, figure_notes=fig_notes)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {fmt} leaderboard ({len(lb.runs)} runs x {len(lb.columns)} columns) to {out}",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_plot(args) -> int:
    from lipeval.report.plots import save

    _, figs, notes = _figures(args)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    if not figs:
        raise ConfigError("nothing to plot: no finished task results or trainer logs in the given folders")
    for p in save(figs, Path(args.out)):
        print(p)
    return 0


def cmd_compare(args) -> int:
    from lipeval.report.compare import compare, load, parse_tolerances, report

    base = load(args.baseline, "BASELINE_DIR")
    cand = load(args.candidate, "CANDIDATE_DIR")
    result = compare(base, cand, tolerance=args.tolerance, per_task=parse_tolerances(args.per_task),
                     two_sided=args.two_sided)
    sys.stdout.write(report(result, all_metrics=not args.main_only))
    return 0 if result.passed else 1


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("result_dirs", nargs="+", metavar="RESULT_DIR",
                   help="a `lipeval run --out` folder, or a folder holding several (one row per folder)")
    p.add_argument("--group", help="only this group's tasks, with its average")
    p.add_argument("--tasks", help="comma-separated task and group names (in this order)")
    p.add_argument("--decimals", type=int, default=1, help="decimals of the percentages (default 1)")
    p.add_argument("--split-protocols", action="store_true",
                   help="give a task one column per protocol / task-version variant (marked, with a note) instead of "
                        "refusing to mix them")


def add_commands(sub) -> None:
    e = sub.add_parser("export", help="leaderboard table: csv, latex, markdown or html")
    _selection(e)
    add_include_path(e)
    e.add_argument("--format", choices=list(FORMATS), help="default: from --out's suffix, else markdown")
    e.add_argument("--metrics", default="main", help="main (default), all, or a comma-separated list of metrics")
    e.add_argument("--out", help="file to write (default: standard output)")
    e.add_argument("--caption", help="LaTeX caption (LaTeX markup, used as is; notes are appended)")
    e.add_argument("--standalone", action="store_true", help="LaTeX: a complete document that compiles as is")
    e.add_argument("--title", default="lipeval leaderboard", help="HTML page title")
    e.add_argument("--no-figures", action="store_true", help="HTML: the tables only")
    e.set_defaults(func=cmd_export)

    p = sub.add_parser("plot", help="figures (PNG + PDF): bars per group, long vs short retrieval, loss curves")
    _selection(p)
    add_include_path(p)
    p.add_argument("--out", required=True, help="folder for the figures")
    p.set_defaults(func=cmd_plot)

    c = sub.add_parser("compare", help="differences between two result folders; non-zero exit on a regression")
    c.add_argument("baseline", metavar="BASELINE_DIR")
    c.add_argument("candidate", metavar="CANDIDATE_DIR")
    c.add_argument("--tolerance", type=float, default=0.5,
                   help="allowed drop of each main metric, in percentage points (default 0.5)")
    c.add_argument("--per-task", action="append", metavar="TASK=TOL", help="a task's own tolerance (repeatable)")
    c.add_argument("--two-sided", action="store_true",
                   help="also fail when a main metric rises by more than its tolerance (deterministic references)")
    c.add_argument("--main-only", action="store_true", help="list main metrics only")
    add_include_path(c)
    c.set_defaults(func=cmd_compare)
