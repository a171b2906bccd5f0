"""`lipeval plot`: the figures exist as PNG and PDF, in the colour-blind-safe palette, and the
commands of this package never import torch."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from lipeval.cli import main
from lipeval.errors import ConfigError
from lipeval.registry import load_registry
from lipeval.report.plots import OKABE_ITO, bar_charts, style, trade_off
from lipeval.report.runs import load_runs, read_train_log
from lipeval.report.table import build


def _trainer_folder(path, steps=40):
    path.mkdir(parents=True)
    (path / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "loss": 4.0 * math.exp(-s / 15) + 0.1, "lr": 1e-3}) + "\n" for s in range(steps)))
    (path / "open_clip_config.json").write_text("{}")
    return path


@pytest.fixture
def folders(rfx, tmp_path):
    trained = _trainer_folder(tmp_path / "runs" / "clip_short")
    rfx.make_run("trained", rfx.synthetic_tasks(0.10, 0.30, 0.50), spec=str(trained))
    rfx.make_run("random", rfx.synthetic_tasks(0.02, 0.02, 0.12))
    other = _trainer_folder(tmp_path / "runs" / "lotlip")
    return rfx.make_run("random", {}).parent, other


def test_plot_writes_png_and_pdf(folders, tmp_path, capsys):
    results, other_trainer = folders
    out = tmp_path / "fig"
    assert main(["plot", str(results), str(other_trainer), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}.{e}" for n in ("bars_synthetic", "long_vs_short", "loss_curves")
                           for e in ("png", "pdf"))
    for p in out.iterdir():
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF")
        assert p.stat().st_size > 5000


def test_figure_contents(folders):
    results, _ = folders
    runs = load_runs([results])
    lb = build(runs)
    _, groups = load_registry()
    (bars,) = bar_charts(lb, groups)
    ax = bars.fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert 50.0 in heights and 12.0 in heights  # the zero-shot accuracies, in %
    colours = {tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in ax.patches}
    from matplotlib.colors import to_rgb

    assert colours <= {tuple(round(c, 3) for c in to_rgb(h)) for h in OKABE_ITO}
    scatter, notes = trade_off(lb)
    assert scatter is not None and notes == []
    ax = scatter.fig.axes[0]
    points = {tuple(round(v, 6) for v in c.get_offsets()[0]) for c in ax.collections}
    # trained: short mean R@1 = 29.5, long = 10.5 (the synthetic suite's only long task here)
    assert (29.5, 10.5) in points


def test_style_distinguishes_more_runs_than_colours():
    seen = {(style(i)["color"], style(i)["hatch"]) for i in range(2 * len(OKABE_ITO))}
    assert len(seen) == 2 * len(OKABE_ITO)


def test_loss_log_errors_name_the_line(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 0, "loss": 1.0}\n{"step": 1}\n')
    with pytest.raises(ConfigError, match=r"metrics.jsonl:2: a metrics-log line needs 'step' and 'loss'"):
        read_train_log(log)


def test_plot_with_nothing_to_plot(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["plot", str(tmp_path / "empty"), "--out", str(tmp_path / "fig")]) == 2
    assert "no result records or trainer logs" in capsys.readouterr().err


def test_report_commands_never_import_torch(folders, tmp_path):
    results, trainer = folders
    code = (
        "import sys; from lipeval.cli import main\n"
        f"assert main(['export', {str(results)!r}, '--format', 'html', '--out', {str(tmp_path / 'b.html')!r}]) == 0\n"
        f"assert main(['plot', {str(results)!r}, {str(trainer)!r}, '--out', {str(tmp_path / 'f')!r}]) == 0\n"
        f"assert main(['compare', {str(results / 'trained')!r}, {str(results / 'trained')!r}]) == 0\n"
        "bad = [m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
