"""The LaTeX table: structurally valid, names escaped, the right cells bold / underlined."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from lipeval.cli import main
from lipeval.report.latex import escape, render
from lipeval.report.runs import load_runs
from lipeval.report.table import build

NASTY = "clip_{x}&y%z#1$~^\\"


def tokens(tex: str):
    """(kind, text) tokens: 'cs' control sequences (\\name or an escaped symbol), '{', '}', '&', 'char'."""
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "%":  # a comment runs to the end of the line
            i = tex.find("\n", i)
            i = len(tex) if i < 0 else i + 1
            continue
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:], re.S)
            yield "cs", m.group(0)
            i += len(m.group(0))
            continue
        yield (ch if ch in "{}&" else "char"), ch
        i += 1


def check_structure(tex: str) -> None:
    """Balanced braces, matched environments, no unescaped special character."""
    depth = 0
    envs: list[str] = []
    toks = list(tokens(tex))
    for k, (kind, text) in enumerate(toks):
        if kind == "{":
            depth += 1
        elif kind == "}":
            depth -= 1
            assert depth >= 0, "a closing brace without its opening one"
        elif kind == "char":
            assert text not in "#$^~_", f"unescaped {text!r}"
        elif kind == "cs" and text in ("\\begin", "\\end"):
            name = "".join(t for _, t in toks[k + 2:k + 2 + 30]).split("}")[0]
            if text == "\\begin":
                envs.append(name)
            else:
                assert envs and envs.pop() == name, f"\\end{{{name}}} does not close the open environment"
    assert depth == 0, "unbalanced braces"
    assert not envs, f"environments left open: {envs}"


def rows(tex: str) -> list[list[str]]:
    """The tabular's rows, split into cells on unescaped &."""
    body = tex.split(r"\begin{tabular}", 1)[1].split(r"\end{tabular}", 1)[0]
    body = body.split("}", 1)[1]  # drop the column spec
    out = []
    for line in body.split("\n"):
        line = line.strip()
        if not line.endswith(r"\\"):
            continue
        out.append([c.strip() for c in re.split(r"(?<!\\)&", line[:-2])])
    return out


def width(cells: list[str]) -> int:
    return sum(int(m.group(1)) if (m := re.match(r"\\multicolumn\{(\d+)\}", c)) else 1 for c in cells)


@pytest.fixture
def board(rfx):
    rfx.make_run(NASTY, rfx.synthetic_tasks(0.10, 0.30, 0.50))
    rfx.make_run("b", rfx.synthetic_tasks(0.20, 0.25, 0.40))
    return rfx.make_run("c", rfx.synthetic_tasks(0.15, 0.20, 0.60)).parent


def test_escape():
    assert escape("a_b&c%d$e#f{g}h~i^j\\k") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k")


def test_table_is_structurally_valid_with_escaped_names(board):
    lb = build(load_runs([board]), metrics="all")
    tex = render(lb)
    check_structure(tex)
    for env in ("table", "tabular"):
        assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}") == 1
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    spec = re.search(r"\\begin\{tabular\}\{(l(c+))\}", tex).group(2)
    table = rows(tex)
    assert len(table) == 2 + 3  # two header rows, three runs
    assert all(width(r) == 1 + len(spec) for r in table), "every row spans every column"
    labels = [r[0] for r in table[2:]]
    assert escape(NASTY) == r"clip\_\{x\}\&y\%z\#1\$\textasciitilde{}\textasciicircum{}\textbackslash{}"
    assert sorted(labels) == sorted([escape(NASTY), "b", "c"])
    # multi-level header: each task spans its metrics, with a \cmidrule under it
    assert r"\multicolumn{5}{c}{long\_dci}" in tex and r"\cmidrule(lr){2-6}" in tex
    assert table[1][1:6] == ["I2T R@1", "T2I R@1", "I2T R@5", "T2I R@5", "R@1"]


def test_best_bold_second_underlined(board):
    tex = render(build(load_runs([board])))
    table = {r[0]: r[1:] for r in rows(tex)[2:]}
    # long_dci mean R@1: a 10.5, b 20.5, c 15.5; zero-shot shape: a 50, b 40, c 60
    a, b, c = table[escape(NASTY)], table["b"], table["c"]
    assert (a[0], b[0], c[0]) == ("10.5", r"\textbf{20.5}", r"\underline{15.5}")
    assert (a[2], b[2], c[2]) == (r"\underline{50.0}", "40.0", r"\textbf{60.0}")
    # the synthetic average (last column) ranks the mean of the three main metrics
    means = {k: float(re.sub(r"[^0-9.]", "", v[-1])) for k, v in table.items()}
    best = max(means, key=means.get)
    assert table[best][-1].startswith(r"\textbf{")
    assert sum(v[-1].startswith(r"\underline{") for v in table.values()) == 1


def test_notes_are_visible_in_the_caption(rfx):
    rfx.make_run("ref", {"synthetic/long_dci": rfx.retrieval(0.1, 0.1)})
    proto = dict(rfx.record("x", {}, "mean_R@1")["protocol"], long_text_mode="subcaption_mean")
    root = rfx.make_run("sub", {"synthetic/long_dci": rfx.retrieval(0.2, 0.2)}, protocol=proto).parent
    tex = render(build(load_runs([root]), split=True))
    check_structure(tex)
    caption = tex.split(r"\caption{", 1)[1]
    assert r"long\_text\_mode=subcaption\_mean" in caption and "not comparable" in caption
    assert r"\multicolumn{1}{c}{synthetic/long\_dci (a)}" in tex


def test_standalone_document_via_cli(board, tmp_path, capsys):
    out = tmp_path / "t.tex"
    assert main(["export", str(board), "--out", str(out), "--standalone", "--decimals", "2"]) == 0
    tex = out.read_text()
    check_structure(tex)
    assert tex.startswith("\\documentclass{article}\n\\usepackage{booktabs}")
    assert tex.rstrip().endswith(r"\end{document}")
    assert r"\textbf{60.00}" in tex
    if shutil.which("pdflatex"):  # compile for real where TeX is installed
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", out.name],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
