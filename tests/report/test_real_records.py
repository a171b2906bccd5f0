"""Export, plot and compare on records written by `lipeval run` itself (a random-init tiny model)."""
from __future__ import annotations

import shutil

import pytest

from lipeval.cli import main
from lipeval.report.table import read_csv

TASKS = "synthetic/retrieval,synthetic/long_dci"


@pytest.fixture(scope="module")
def results(synth_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    rc = main(["run", "--model", "open_clip:lipeval-tiny-rn", "--tasks", TASKS, "--data-root", str(synth_root),
               "--out", str(out / "rn_seed0"), "--device", "cpu"])
    assert rc == 0
    shutil.copytree(out / "rn_seed0", out / "rn_copy")
    return out


def test_export_every_format(results, tmp_path):
    for fmt, ext in (("csv", "csv"), ("latex", "tex"), ("markdown", "md"), ("html", "html")):
        assert main(["export", str(results), "--format", fmt, "--out", str(tmp_path / f"board.{ext}")]) == 0
    board = read_csv(tmp_path / "board.csv")
    assert list(board.index) == ["rn_copy", "rn_seed0"]
    assert board.loc["rn_copy"].equals(board.loc["rn_seed0"])
    assert ("synthetic/retrieval", "mean_R@1") in board.columns and ("Avg. synthetic", "mean of main metrics") in \
        board.columns
    assert (board.values >= 0).all() and (board.values <= 100).all()
    assert r"\begin{tabular}" in (tmp_path / "board.tex").read_text()


def test_plot_and_compare(results, tmp_path):
    assert main(["plot", str(results), "--out", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig" / "long_vs_short.pdf").is_file()
    assert main(["compare", str(results / "rn_seed0"), str(results / "rn_seed0")]) == 0
    assert main(["compare", str(results / "rn_seed0"), str(results / "rn_copy"), "--two-sided", "--tolerance", "0"]) == 0
