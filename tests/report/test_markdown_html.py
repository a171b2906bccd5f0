"""Markdown and HTML leaderboards: well-formed, escaped, marks on the right cells, HTML self-contained."""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from lipeval.cli import main
from lipeval.report.runs import load_runs
from lipeval.report.table import build

VOID = {"meta", "img", "br", "hr", "link", "input"}


@pytest.fixture
def board(rfx):
    rfx.make_run("x|<b>_1", rfx.synthetic_tasks(0.10, 0.30, 0.50))
    rfx.make_run("b", rfx.synthetic_tasks(0.20, 0.25, 0.40))
    return rfx.make_run("c", rfx.synthetic_tasks(0.15, 0.20, 0.60)).parent


def test_markdown_table(board):
    from lipeval.report.markdown import render

    md = render(build(load_runs([board])))
    table = [ln for ln in md.splitlines() if ln.startswith("|")]
    cells = [re.split(r"(?<!\\)\|", ln)[1:-1] for ln in table]
    assert len(table) == 2 + 3
    assert len({len(c) for c in cells}) == 1, "every row has the same number of cells"
    rows = {c[0].strip(): [x.strip() for x in c[1:]] for c in cells[2:]}
    assert r"x\|\<b\>\_1" in rows  # the pipe cannot split the row, the tag is not HTML
    # columns: long_dci, retrieval, zeroshot_shape, Avg.
    assert rows["b"][0] == "**20.5**" and rows["c"][0] == "<ins>15.5</ins>" and rows[r"x\|\<b\>\_1"][0] == "10.5"
    assert rows["c"][2] == "**60.0**" and rows[r"x\|\<b\>\_1"][2] == "<ins>50.0</ins>"
    assert "Avg." in table[0] and "long\\_dci R@1" in table[0]
    assert "Notes:" in md and "synthetic-suite results" in md


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.external, self.images, self.cells = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if key in attrs and not str(attrs[key]).startswith("data:"):
                self.external.append(attrs[key])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "td":
            self.cells.append(attrs.get("class", ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes the wrong element"


def test_html_page_is_self_contained(board, tmp_path):
    out = tmp_path / "board.html"
    assert main(["export", str(board), "--out", str(out)]) == 0  # format from the suffix
    page = out.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], "every element is closed"
    assert checker.external == [], "nothing is fetched from elsewhere"
    assert len(checker.images) >= 2  # the bar chart and the long vs short scatter
    for src in checker.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "x|&lt;b&gt;_1" in page and "<b>_1" not in page
    assert checker.cells.count("best") >= 4 and checker.cells.count("second") >= 4
    assert 'colspan="1">long_dci<' in page


def test_export_stdout_and_bad_suffix(board, capsys, tmp_path):
    assert main(["export", str(board), "--format", "markdown", "--tasks", "synthetic/retrieval"]) == 0
    assert "| model |" in capsys.readouterr().out
    assert main(["export", str(board), "--out", str(tmp_path / "t.xlsx")]) == 2
    assert "--out" in capsys.readouterr().err
