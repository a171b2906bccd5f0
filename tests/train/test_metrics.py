"""The trainer's metrics log and its loss-curve figure (drawn by lipeval.report.plots.loss_curves)."""
import json

from lipeval.train.metrics import LOSS_PNG, METRICS, plot_loss


def test_plot_loss_writes_a_png_in_the_run_folder(tmp_path):
    (tmp_path / METRICS).write_text("".join(json.dumps({"step": s, "loss": 4.0 - s / 10}) + "\n" for s in range(30)))
    out = plot_loss(tmp_path, "run")
    assert out == tmp_path / LOSS_PNG
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_loss_without_a_log_draws_nothing(tmp_path):
    assert plot_loss(tmp_path, "run") is None
    assert not (tmp_path / LOSS_PNG).exists()
