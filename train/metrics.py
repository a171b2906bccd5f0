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


def plot_loss(run_dir: Path, title: str) -> Path | None:
    """Loss (and its running mean) against step, as LOSS_PNG in the run folder."""
    rows = read_metrics(run_dir)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    loss = [r["loss"] for r in rows]
    window = max(1, len(loss) // 25)
    smooth = [sum(loss[max(0, i - window + 1):i + 1]) / len(loss[max(0, i - window + 1):i + 1])
              for i in range(len(loss))]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, loss, color="0.75", linewidth=0.8, label="loss")
    ax.plot(steps, smooth, color="C0", linewidth=1.6, label=f"running mean ({window} steps)")
    ax.set_xlabel("step")
    ax.set_ylabel("contrastive loss")
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(run_dir) / LOSS_PNG
    fig.savefig(out)
    plt.close(fig)
    return out
