"""Short display names for table headers (CSV keeps the raw task and metric keys).

A task's name in headers is its task file's `display:` (the names the papers use in their tables, e.g.
LoTLIP's DCI, IIW, SV-1k, SV-10k), else its name without a prefix every task of the table shares."""
from __future__ import annotations

import re

from lipeval.report.table import Column

METRIC_NAMES = {
    "mean_R@1": "R@1",
    "acc1": "Top-1",
    "acc5": "Top-5",
    "mean_per_class_recall": "Mean recall",
    "accuracy": "Acc.",
    "macro_accuracy": "Macro acc.",
}
_DIRECTION = {"image_to_text": "I2T", "text_to_image": "T2I"}


def metric_name(metric: str) -> str:
    if metric in METRIC_NAMES:
        return METRIC_NAMES[metric]
    m = re.fullmatch(r"(image_to_text|text_to_image)_(.+)", metric)
    return f"{_DIRECTION[m.group(1)]} {m.group(2)}" if m else metric


def task_names(columns: list[Column]) -> dict[str, str]:
    """Task -> header text: a known short name, else the name without a prefix all tasks share.

    Group averages are keyed `@avg:GROUP`: "Avg." when the table has one, else "Avg. GROUP".
    """
    tasks = list(dict.fromkeys(c.task for c in columns if not c.average))
    prefixes = {t.partition("/")[0] for t in tasks}
    strip = len(prefixes) == 1 and all("/" in t for t in tasks) and len(tasks) > 1
    from lipeval.registry import load_registry

    registered = load_registry()[0]
    display = {t: registered[t].display for t in tasks if t in registered and registered[t].display}
    names = {t: display.get(t, t.partition("/")[2] if strip else t) for t in tasks}
    averages = [c.task for c in columns if c.average]
    for g in averages:
        names[f"@avg:{g}"] = "Avg." if len(averages) == 1 else f"Avg. {g}"
    return names


def header(col: Column, names: dict[str, str]) -> tuple[str, str]:
    """(top header, sub header) of a column for LaTeX, Markdown and HTML."""
    if col.average:
        return (names[f"@avg:{col.task}"], "")
    return (names[col.task] + (f" ({col.variant})" if col.variant else ""), metric_name(col.metric))


def spans(columns: list[Column], names: dict[str, str]) -> list[tuple[str, int]]:
    """Consecutive columns sharing a top header, as (text, width)."""
    out: list[tuple[str, int]] = []
    for c in columns:
        top = header(c, names)[0]
        if out and out[-1][0] == top:
            out[-1] = (top, out[-1][1] + 1)
        else:
            out.append((top, 1))
    return out
