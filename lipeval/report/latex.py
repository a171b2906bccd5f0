"""The leaderboard as a booktabs LaTeX table: best value per column bold, second underlined.

The header has two levels (task over its metrics, joined by \\cmidrule), names are escaped,
and the notes (averages, protocol variants, missing results) go into the caption, so what
the table mixes or omits is visible in the paper. `standalone=True` wraps the table in a
minimal article that compiles as is; otherwise the table needs `\\usepackage{booktabs}`.
"""
from __future__ import annotations

import math

from lipeval.report.labels import header, spans, task_names
from lipeval.report.table import Leaderboard

_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}


def escape(text: str) -> str:
    """Text with every LaTeX special character escaped."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(value: float, mark: str, lb: Leaderboard) -> str:
    if value is None or math.isnan(value):
        return "--"
    text = lb.cell(value)
    return r"\textbf{" + text + "}" if mark == "best" else r"\underline{" + text + "}" if mark == "second" else text


def render(lb: Leaderboard, caption: str | None = None, label: str = "tab:lipeval", standalone: bool = False) -> str:
    """The table; `caption` is LaTeX as given (the notes are appended to it, escaped)."""
    names = task_names(lb.columns)
    shown, marks = lb.shown(), lb.marks()
    n = len(lb.columns)
    top, start = [], 2
    rules = []
    for text, width in spans(lb.columns, names):
        top.append(r"\multicolumn{%d}{c}{%s}" % (width, escape(text)))
        rules.append(r"\cmidrule(lr){%d-%d}" % (start, start + width - 1))
        start += width
    sub = [escape(header(c, names)[1]) for c in lb.columns]
    body = []
    for i, run in enumerate(shown.index):
        cells = [_cell(shown.iloc[i, j], marks.iloc[i, j], lb) for j in range(n)]
        body.append(" & ".join([escape(run)] + cells) + r" \\")
    cap = caption if caption is not None else (
        f"Results in \\%, {lb.decimals} decimal{'s' if lb.decimals != 1 else ''}; best per column in bold, "
        "second underlined; -- = no result.")
    cap_notes = " ".join(escape(n_.rstrip(".")) + "." for n_ in lb.notes)
    lines = [
        "% lipeval export: a booktabs table (\\usepackage{booktabs})",
        *["% " + " ".join(p.split()) for p in lb.provenance()],
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{l" + "c" * n + "}",
        r"\toprule",
        " & ".join([""] + top) + r" \\",
        " ".join(rules),
        " & ".join(["Model"] + sub) + r" \\",
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}",
        r"\caption{" + cap + (" " + cap_notes if cap_notes else "") + "}",
        r"\label{" + label + "}",
        r"\end{table}",
    ]
    text = "\n".join(lines) + "\n"
    if standalone:
        text = ("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[margin=1cm,landscape]{geometry}\n"
                "\\begin{document}\n" + text + "\\end{document}\n")
    return text

