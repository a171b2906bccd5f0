"""The run's metrics log (JSONL, one line per step) and its loss-curve figure."""
from __future__ import annotations

import json
from pathlib import Path

METRICS = "metrics.jsonl"
LOSS_PNG = "loss.png"


class MetricsLog:
    """Appends one JSON object per step; on resume, lines past the resumed step are dropped first."""

    def __init__(self, run_dir: Path, resume_step: int | None):
        self.path = run_dir / METRICS
        if resume_step is None:
            self.path.write_text("")
        elif self.path.is_file():
            kept = [ln for ln in self.path.read_text().splitlines() if ln.strip()
                    and json.loads(ln).get("step", 0) < resume_step]
            self.path.write_text("".join(ln + "\n" for ln in kept))
        self._f = self.path.open("a", encoding="utf-8")

    def write(self, row: dict) -> None:
        self._f.write(json.dumps(row) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def read_metrics(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / METRICS
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] if path.is_file() else []


def plot_loss(run_dir: Path, name: str) -> Path | None:
    """The run's loss curve as LOSS_PNG in the run folder: the figure `lipeval plot` draws for trainer runs."""
    rows = read_metrics(run_dir)
    if not rows:
        return None
    import matplotlib

    from lipeval.report.plots import PAPER, loss_curves

    out = Path(run_dir) / LOSS_PNG
    with matplotlib.rc_context(PAPER):
        out.write_bytes(loss_curves([(name, 0, rows)], title=f"{name}: training loss").png())
    return out
