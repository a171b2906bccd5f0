"""The leaderboard as one self-contained HTML page: the table, its notes and the figures
embedded as PNG data URIs, so the file opens offline in any browser and can be mailed alone."""
from __future__ import annotations

import base64
import math
from html import escape

from lipeval import __version__
from lipeval.report.labels import header, spans, task_names
from lipeval.report.plots import Figure
from lipeval.report.table import Leaderboard

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em;
       color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.6em; text-align: right; }
th { font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
thead tr:first-child th { border-top: 2px solid #222; }
thead tr:last-child th { border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
th.span { border-bottom: 1px solid #888; text-align: center; }
td.best { font-weight: 700; }
td.second { text-decoration: underline; }
figure { margin: 1.5em 0; }
img { max-width: 100%; height: auto; }
.notes { font-size: 0.9em; color: #444; }
"""


def _cell(value: float, mark: str, lb: Leaderboard) -> str:
    if value is None or math.isnan(value):
        return '<td class="missing">–</td>'
    cls = f' class="{mark}"' if mark else ""
    return f"<td{cls}>{lb.cell(value)}</td>"


def table(lb: Leaderboard) -> str:
    names = task_names(lb.columns)
    shown, marks = lb.shown(), lb.marks()
    top = "".join(f'<th class="span" colspan="{w}">{escape(t)}</th>' for t, w in spans(lb.columns, names))
    sub = "".join(f"<th>{escape(header(c, names)[1])}</th>" for c in lb.columns)
    rows = []
    for i, run in enumerate(shown.index):
        cells = "".join(_cell(shown.iloc[i, j], marks.iloc[i, j], lb) for j in range(len(lb.columns)))
        rows.append(f"<tr><td>{escape(str(run))}</td>{cells}</tr>")
    return (f'<table>\n<thead>\n<tr><th rowspan="2">model</th>{top}</tr>\n<tr>{sub}</tr>\n</thead>\n'
            f"<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")


def render(lb: Leaderboard, figures: list[Figure], title: str = "lipeval leaderboard",
           figure_notes: list[str] | None = None) -> str:
    plural = "s" if lb.decimals != 1 else ""
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Values in %, {lb.decimals} decimal{plural}; best per column <b>bold</b>, second <u>underlined</u>; "
        "– = no result.</p>",
        table(lb),
    ]
    if lb.notes:
        parts.append('<div class="notes"><h2>Notes</h2><ul>'
                     + "".join(f"<li>{escape(n)}</li>" for n in lb.notes) + "</ul></div>")
    parts.append('<div class="notes"><h2>Runs</h2><ul>'
                 + "".join(f"<li>{escape(p)}</li>" for p in lb.provenance()) + "</ul></div>")
    if figures:
        parts.append("<h2>Figures</h2>")
        for f in figures:
            data = base64.b64encode(f.png()).decode("ascii")
            parts.append(f'<figure><img alt="{escape(f.name)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{escape(f.name)}</figcaption></figure>")
    if figure_notes:
        parts.append('<div class="notes"><ul>' + "".join(f"<li>{escape(n)}</li>" for n in figure_notes)
                     + "</ul></div>")
    parts += [f'<p class="notes">Written by lipeval {escape(__version__)}.</p>', "</body>", "</html>"]
    return "\n".join(parts) + "\n"
