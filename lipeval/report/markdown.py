"""The leaderboard as a Markdown pipe table (GitHub flavour): best **bold**, second <ins>underlined</ins>."""
from __future__ import annotations

import math

from lipeval.report.labels import header, task_names
from lipeval.report.table import Leaderboard

_SPECIAL = "\\`*_[]|<>#"


def escape(text: str) -> str:
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in " ".join(str(text).split()))


def _cell(value: float, mark: str, lb: Leaderboard) -> str:
    if value is None or math.isnan(value):
        return "–"
    text = lb.cell(value)
    return f"**{text}**" if mark == "best" else f"<ins>{text}</ins>" if mark == "second" else text


def render(lb: Leaderboard) -> str:
    names = task_names(lb.columns)
    shown, marks = lb.shown(), lb.marks()
    heads = []
    for c in lb.columns:
        top, sub = header(c, names)
        heads.append(escape(f"{top} {sub}".strip()))
    lines = ["| " + " | ".join(["model"] + heads) + " |", "|" + "---|" + "---:|" * len(heads)]
    for i, run in enumerate(shown.index):
        cells = [_cell(shown.iloc[i, j], marks.iloc[i, j], lb) for j in range(len(lb.columns))]
        lines.append("| " + " | ".join([escape(run)] + cells) + " |")
    plural = "s" if lb.decimals != 1 else ""
    lines += ["", f"Values in %, {lb.decimals} decimal{plural}; best per column **bold**, second <ins>underlined</ins>; "
              "– = no result."]
    if lb.notes:
        lines += ["", "Notes:", ""] + [f"- {escape(n)}" for n in lb.notes]
    lines += ["", "Runs:", ""] + [f"- {escape(p)}" for p in lb.provenance()]
    return "\n".join(lines) + "\n"
